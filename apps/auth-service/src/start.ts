import { createLogger, runMain } from '@um/platform';
import { loadConfig } from './config.js';
import { startAuthService } from './service.js';

runMain('auth-service', async () => {
  const config = loadConfig(process.env);
  return startAuthService(config, createLogger('auth-service', config.LOG_LEVEL));
});
