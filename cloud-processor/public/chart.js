// The chart of one series' recent windows: the mean, the min–max band, p99, and its alerts as
// vertical lines (red where one opened, green where one resolved). Drawn by uPlot.
import uPlot from './vendor/uPlot.esm.js';

const SEVERITY_COLOUR = { critical: '#c62828', warning: '#e08a00', info: '#1565c0' };

/** uPlot's columns (x in seconds) from the windows the API returns (ts = the window's end, in ms). */
function columns(windows) {
  return [
    windows.map((w) => w.ts / 1000),
    windows.map((w) => w.min),
    windows.map((w) => w.max),
    windows.map((w) => w.mean),
    windows.map((w) => w.p99 ?? null),
  ];
}

/** Draws each alert transition as a vertical line at its time, labelled with its state. */
function alertMarkers(alerts) {
  return (u) => {
    const { ctx } = u;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.lineWidth = 2 * uPlot.pxRatio;
    ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`;
    for (const a of alerts) {
      const x = Math.round(u.valToPos(a.at / 1000, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      const colour = a.state === 'resolved' ? '#2e7d32' : (SEVERITY_COLOUR[a.severity] ?? '#c62828');
      ctx.strokeStyle = colour;
      ctx.fillStyle = colour;
      ctx.setLineDash(a.state === 'updated' ? [3 * uPlot.pxRatio, 3 * uPlot.pxRatio] : []);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      if (a.state !== 'updated')
        ctx.fillText(
          a.state === 'opened' ? `▼ ${a.detector}` : '▲ resolved',
          x + 3 * uPlot.pxRatio,
          top + 12 * uPlot.pxRatio,
        );
    }
    ctx.restore();
  };
}

/**
 * Draws (or redraws) the chart in `el`; returns the uPlot instance. `previous` is destroyed, so
 * the markers always follow the alerts of the data drawn.
 */
export function drawSeries(el, series, previous) {
  previous?.destroy();
  const width = Math.max(el.clientWidth, 320);
  const opts = {
    width,
    height: 320,
    scales: { x: { time: true } },
    series: [
      {},
      { label: 'min', stroke: 'rgba(21,101,192,0.35)', width: 1 },
      { label: 'max', stroke: 'rgba(21,101,192,0.35)', width: 1 },
      { label: 'mean', stroke: '#1565c0', width: 2 },
      { label: 'p99', stroke: '#8e24aa', width: 1, dash: [6, 4], spanGaps: true },
    ],
    bands: [{ series: [2, 1], fill: 'rgba(21,101,192,0.12)' }],
    axes: [{}, { label: series.metric }],
    hooks: { draw: [alertMarkers(series.alerts)] },
  };
  return new uPlot(opts, columns(series.windows), el);
}
