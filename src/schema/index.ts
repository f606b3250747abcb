// The executable schema: importing each module registers its types and fields.
import { builder } from './builder.js';
import './scalars.js';
import './enums.js';
import './errors.js';
import './task.js';
import './task-run.js';
import './viewer.js';
import './schedule-preview.js';
import './create-task.js';
import './delete-task.js';
import './update-task.js';
import './pause-schedule.js';
import './resume-schedule.js';
import './cancel-schedule.js';
import './delete-tasks.js';
import './run-task.js';
import './task-events.js';

export const schema = builder.toSchema({ sortSchema: false });
