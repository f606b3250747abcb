import type { Session } from '../session.js';
import { changeStatus, type StatusChanged } from './change-status.js';

/** ACTIVE → PAUSED: no run is planned until it is resumed. Limited per schedule id too; one unit of quota. */
export function pauseSchedule(session: Session, id: string): Promise<StatusChanged> {
  return changeStatus(session, 'pause', id);
}
