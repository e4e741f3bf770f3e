import { createLogger, runMain } from '@um/platform';
import { loadConfig } from './config.js';
import { startMailService } from './service.js';

runMain('mail-service', async () => {
  const config = loadConfig(process.env);
  return startMailService(config, createLogger('mail-service', config.LOG_LEVEL));
});
