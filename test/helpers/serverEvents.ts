import { serverEvents, type ServerEventName } from '../../src/signaling/protocol';

/** A server event a test client received that does not match protocol.ts. */
export type SchemaMismatch = { name: string; data: unknown; problem: string };

const mismatches: SchemaMismatch[] = [];

/** What is wrong with a server event by protocol.ts's `serverEvents` schemas; undefined when nothing is. */
export function serverEventProblem(name: string, data: unknown): string | undefined {
	if (!Object.prototype.hasOwnProperty.call(serverEvents, name)) {
		return 'protocol.ts has no such server event';
	}
	const result = serverEvents[name as ServerEventName].safeParse(data);
	if (result.success) {
		return undefined;
	}
	return result.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`).join('; ');
}

/** Checks a received server event; a mismatch is kept for `takeSchemaMismatches`. */
export function checkServerEvent(name: string, data: unknown): void {
	const problem = serverEventProblem(name, data);
	if (problem !== undefined) {
		mismatches.push({ name, data, problem });
	}
}

/** The mismatches kept since the last call (and forgets them). */
export function takeSchemaMismatches(): SchemaMismatch[] {
	return mismatches.splice(0);
}
