import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The chart's element keeps its uPlot, so a test can check the points it holds against the store. */
export interface PlotElement extends HTMLDivElement {
  uplot?: uPlot;
}

const HEIGHT = 220;

/**
 * One uPlot chart, as wide as its container (redrawn on resize). A title and a text summary go
 * beside it for screen readers and keyboard users, who can't read a canvas.
 */
export function Plot({
  id,
  title,
  summary,
  options,
  data,
}: {
  id: string;
  title: string;
  summary: string;
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
}) {
  const box = useRef<PlotElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot({ ...options, width: Math.max(320, el.clientWidth), height: HEIGHT }, data, el);
    el.uplot = plot;
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(320, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      delete el.uplot;
    };
  }, [options, data]);
  return (
    <figure class="plot">
      <figcaption>{title}</figcaption>
      <div id={id} ref={box} class="plot-canvas" role="img" aria-label={`${title}: ${summary}`} />
      <p class="muted plot-summary">{summary}</p>
    </figure>
  );
}

/** Times on the x axis in China Standard Time, whatever the browser's zone. */
export const cst = (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai');

export const bars = uPlot.paths.bars!({ size: [0.6, 40] });
export const stepped = uPlot.paths.stepped!({ align: 1 });
