import type { RunSettings } from '../../config.js';
import type { Database } from '../../db/client.js';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/task-events.js';

/** What the dispatcher's services need (a subset of a request's Deps). */
export interface RunDeps {
  db: Database;
  clock: Clock;
  runs: RunSettings;
  /** Where run starts and ends (and tasks turning ERROR) are announced. */
  events: EventBus;
}
