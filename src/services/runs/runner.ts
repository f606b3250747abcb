// How the services hand a run to this instance's dispatcher, without knowing
// how it executes (src/dispatcher/ implements it).
import type { RunToExecute } from '../../db/run-writes.js';

export interface Runner {
  /** Reserves one of this instance's execution slots; false when all are busy. */
  reserve(): boolean;
  /** Executes a claimed run in a slot reserved for it. */
  execute(run: RunToExecute): void;
  /** Gives a reserved slot back unused. */
  release(): void;
}
