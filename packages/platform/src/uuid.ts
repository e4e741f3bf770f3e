import { v7 } from 'uuid';

/** RFC 9562 UUID version 7: time-ordered, so ordering by id is ordering by creation. */
export const uuidv7 = (now = Date.now()): string => v7({ msecs: now });
