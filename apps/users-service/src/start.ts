import { createLogger, runMain } from '@um/platform';
import { loadConfig } from './config.js';
import { startUsersService } from './service.js';

runMain('users-service', async () => {
  const config = loadConfig(process.env);
  return startUsersService(config, createLogger('users-service', config.LOG_LEVEL));
});
