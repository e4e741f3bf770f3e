import cliProgress from 'cli-progress';

export interface Progress {
  update: (done: number, total: number) => void;
  stop: () => void;
}

/**
 * A progress bar with rate and ETA on `stream` (stderr: stdout carries the result). At a terminal it
 * redraws in place; elsewhere (a log, a CI job) it prints a line every second and a last one at the end.
 */
export function progressBar(label: string, unit: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {speed} ${unit}/s | ETA {eta_formatted}`,
      barsize: 30,
      noTTYOutput: true,
      notTTYSchedule: 1000,
      etaBuffer: 20,
      fps: 10,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = 0;
  let running = false;
  const speed = (done: number) => Math.round(done / Math.max((performance.now() - started) / 1000, 0.001));
  return {
    update(done, total) {
      if (!running) {
        started = performance.now();
        bar.start(total, done, { speed: speed(done) });
        running = true;
        return;
      }
      bar.setTotal(total);
      bar.update(done, { speed: speed(done) });
    },
    stop() {
      if (!running) return;
      bar.stop(); // draws the final count once more, also off a terminal
      running = false;
    },
  };
}
