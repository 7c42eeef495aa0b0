import { Counters, ProblemReport, type Logger } from '@tributary/runtime';
import { agentCounterHelp, type AgentCounter } from './core/counters.js';

/**
 * What the agent counts and what it skipped: the counters (on /metrics) and the problem report,
 * which `log` writes once per interval (reportIntervalMs), one line per reason with an example.
 */
export class AgentReport {
  readonly counters = new Counters<AgentCounter>(agentCounterHelp);
  readonly problems = new ProblemReport();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  /** Logs the problems every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.logProblems(), intervalMs);
  }

  /** Ends the periodic report (a stop logs the last one itself, once the uplink has drained). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Counts `by` of `counter` and notes `example` under its name for the next report. */
  note(counter: AgentCounter, example: string, by = 1): void {
    this.counters.inc(counter, by);
    this.problems.note(counter, example);
  }

  /** Readings accepted but not in the write-ahead log (at its bound, or a write failed): counted, and the reason noted. */
  walUnprotected(readings: number, reason: string): void {
    this.counters.inc('wal_readings_unprotected', readings);
    this.problems.note('wal_unprotected', reason);
  }

  /** One log line per reason of skipped input since the last call, with an example. */
  logProblems(): void {
    for (const p of this.problems.drain()) {
      if (p.reason === 'clock_ahead')
        this.log.warn(
          { messages: p.count, example: p.example },
          'device clock ahead of the agent clock (its windows close by its own clock)',
        );
      else if (p.reason === 'wal_unprotected')
        this.log.warn(
          { times: p.count, example: p.example },
          'readings accepted but not in the write-ahead log: a crash before they are spooled loses them',
        );
      else this.log.warn({ reason: p.reason, count: p.count, example: p.example }, 'skipped input');
    }
  }
}
