import { createLogger, type PersonalData } from '@um/platform';

/** The real production logger (createLogger), its lines captured in `output` instead of printed. */
export function capturedLogger(personalData: PersonalData = 'masked') {
  const output: string[] = [];
  const log = createLogger('gateway', 'info', { personalData, hooks: { streamWrite: (line: string) => (output.push(line), '') } });
  return { log, output };
}
