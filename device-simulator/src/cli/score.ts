import {
  BadInputError,
  collectAlertsFromMqtt,
  queryAlertsFromInflux,
  readAlertsFile,
  readLabels,
} from '../alert-sources.js';
import { formatScore, scoreAlerts, type ScoredAlert } from '../scoring/alerts.js';
import { CliError, duration, parseFlags } from './args.js';

const HELP = `tributary-sim score --labels labels.jsonl  ALERTS  [--early 5m] [--late 10m] [--json]

ALERTS is one of:
  --alerts alerts.jsonl           alert events (JSON lines; only "opened" ones count)
  --mqtt mqtt://host:1883 [--listen 60s]   the alert topic tributary/v1/alerts/#, until the time is up or Ctrl-C
  --influx http://host:8086 [--database tributary]   the "anomaly" measurement (InfluxDB 1.x)
An alert matches a label on the same device and metric that it opened within [start - early, end + late].
`;

export async function scoreCommand(args: string[]): Promise<number> {
  try {
    const v = parseFlags(args, {
      help: { type: 'boolean' },
      labels: { type: 'string' },
      alerts: { type: 'string' },
      mqtt: { type: 'string' },
      listen: { type: 'string' },
      influx: { type: 'string' },
      database: { type: 'string', default: 'tributary' },
      early: { type: 'string', default: '5m' },
      late: { type: 'string', default: '10m' },
      json: { type: 'boolean', default: false },
    });
    if (v.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (v.labels === undefined) throw new CliError('score needs --labels (the ground truth a run wrote)');
    const sources = [v.alerts, v.mqtt, v.influx].filter((s) => s !== undefined).length;
    if (sources !== 1) throw new CliError('score needs exactly one of --alerts FILE, --mqtt URL or --influx URL');
    const labels = readLabels(v.labels);
    let alerts: ScoredAlert[];
    if (v.alerts !== undefined) alerts = readAlertsFile(v.alerts);
    else if (v.influx !== undefined)
      alerts = await queryAlertsFromInflux(
        v.influx,
        v.database,
        labels.length ? Math.min(...labels.map((l) => l.start)) - 86_400_000 : undefined,
      );
    else {
      const listenMs = v.listen === undefined ? undefined : duration('listen', v.listen);
      let subscribed: () => void = () => undefined;
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        subscribed = () => {
          process.stderr.write(
            `listening for alerts on ${v.mqtt}${listenMs === undefined ? ' until Ctrl-C' : ` for ${v.listen}`}\n`,
          );
          if (listenMs !== undefined) setTimeout(resolve, listenMs);
        };
      });
      alerts = await collectAlertsFromMqtt(v.mqtt!, stop, () => subscribed());
    }
    const score = scoreAlerts(labels, alerts, {
      earlyMs: duration('early', v.early),
      lateMs: duration('late', v.late),
    });
    process.stdout.write(v.json ? `${JSON.stringify(score)}\n` : `${formatScore(score)}\n${JSON.stringify(score)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CliError || err instanceof BadInputError) {
      process.stderr.write(`tributary-sim score: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
