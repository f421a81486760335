/**
 * Jest setup for every test file (jest.config.js setupFilesAfterEnv): a test
 * fails when a server event any SignalingClient received during it does not
 * match its schema in src/signaling/protocol.ts. So every event the
 * integration suite sees, room and call events alike, is checked.
 */
import { takeSchemaMismatches } from './serverEvents';

function failOnMismatches(when: string): void {
	const found = takeSchemaMismatches();
	if (found.length > 0) {
		const lines = found.slice(0, 5).map(({ name, data, problem }) => `  ${name} ${JSON.stringify(data)?.slice(0, 300)}: ${problem}`);
		throw new Error(`${found.length} server event(s) ${when} do not match protocol.ts:\n${lines.join('\n')}`);
	}
}

afterEach(() => failOnMismatches('received during this test'));
// NOTE: an event that arrives after the last test's afterEach is still checked.
afterAll(() => failOnMismatches('received after the last test'));
