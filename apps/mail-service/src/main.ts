import { connectNats, createLogger, runMain, startHealthServer } from '@um/platform';
import { loadConfig } from './config.js';

runMain('mail-service', async () => {
  const config = loadConfig(process.env);
  const log = createLogger('mail-service', config.LOG_LEVEL);
  const nc = await connectNats(config.NATS_URL, 'mail-service', log);
  const health = startHealthServer(config.HEALTH_PORT, async () => !nc.isClosed());
  log.info({ smtp: config.SMTP_URL ? 'configured' : 'log only' }, 'mail-service ready');
  return {
    log,
    stop: async () => {
      health?.close();
      await nc.drain();
    },
  };
});
