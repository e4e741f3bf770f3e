import { describe, expect, it } from 'vitest';
import { usersEventsStream } from './events-stream.js';

describe('usersEventsStream', () => {
  it('covers every users event subject under the namespace, kept 30 days, duplicates dropped for 10 minutes', () => {
    expect(usersEventsStream('team1')).toEqual({ name: 'team1_UM_USERS_EVENTS', subjects: ['team1.um.evt.users.>'], maxAgeMs: 30 * 86_400_000, duplicateWindowMs: 600_000 });
    expect(usersEventsStream(undefined)).toMatchObject({ name: 'UM_USERS_EVENTS', subjects: ['um.evt.users.>'] });
  });
});
