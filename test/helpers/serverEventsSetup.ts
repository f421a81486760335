import { takeServerEventViolations } from './serverEvents';

// Every server event a test's clients receive matches its schema in
// protocol.ts (test/helpers/serverEvents.ts); one that does not fails the
// test it arrived in (or, arriving after the last, the file).
afterEach(() => {
	expect(takeServerEventViolations()).toEqual([]);
});
afterAll(() => {
	expect(takeServerEventViolations()).toEqual([]);
});
