import type { Session } from '../session.js';
import { changeStatus, type StatusChanged } from './change-status.js';

/**
 * PAUSED or ERROR → ACTIVE, next run planned from now (times missed while
 * paused are not run). Limited per schedule id too; one unit of quota.
 */
export function resumeSchedule(session: Session, id: string): Promise<StatusChanged> {
  return changeStatus(session, 'resume', id);
}
