import type { Session } from '../session.js';
import { changeStatus, type StatusChanged } from './change-status.js';

export type CancelScheduleResult = StatusChanged;

/**
 * Cancels a schedule for good: ACTIVE, PAUSED, CREATE_PENDING or ERROR →
 * CANCELLED. Limited per schedule id too; consumes one unit of quota.
 */
export function cancelSchedule(session: Session, id: string): Promise<StatusChanged> {
  return changeStatus(session, 'cancel', id);
}
