// The executable schema: importing each module registers its types and fields.
import { builder } from './builder.js';
import './scalars.js';
import './enums.js';
import './errors.js';
import './task.js';
import './viewer.js';
import './create-task.js';
import './delete-task.js';
import './cancel-schedule.js';
import './delete-tasks.js';

export const schema = builder.toSchema({ sortSchema: false });
