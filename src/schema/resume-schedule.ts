import { resumeSchedule } from '../services/tasks/resume.js';
import { statusChangeField } from './status-change.js';

statusChangeField({
  field: 'resumeSchedule',
  verb: 'resumed',
  newStatus: 'ACTIVE',
  description:
    'Resumes a PAUSED or ERROR schedule: ACTIVE again, next run planned from now (times missed meanwhile are not run). From any other status it is InvalidStatus.',
  change: resumeSchedule,
});
