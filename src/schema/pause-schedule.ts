import { pauseSchedule } from '../services/tasks/pause.js';
import { statusChangeField } from './status-change.js';

statusChangeField({
  field: 'pauseSchedule',
  verb: 'paused',
  newStatus: 'PAUSED',
  description:
    'Pauses an ACTIVE schedule: no run is planned until resumeSchedule. From any other status it is InvalidStatus.',
  change: pauseSchedule,
});
