import { cancelSchedule } from '../services/tasks/cancel.js';
import { statusChangeField } from './status-change.js';

statusChangeField({
  field: 'cancelSchedule',
  verb: 'cancelled',
  newStatus: 'CANCELLED',
  description:
    'Cancels a schedule for good, from ACTIVE, PAUSED, CREATE_PENDING or ERROR; from CANCELLED or NON_EXISTING it is InvalidStatus.',
  change: cancelSchedule,
});
