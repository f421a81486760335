import type { z } from 'zod';
import { serverEvents } from '../../src/signaling/protocol';

/**
 * Server events a SignalingClient received that are not in protocol.ts or do
 * not match their schema there. The setup file (serverEventsSetup.ts) fails
 * the test during which one arrived.
 */
const violations: string[] = [];

export function checkServerEvent(name: string, data: unknown): void {
	const schema = (serverEvents as Record<string, z.ZodType>)[name];
	if (!schema) {
		violations.push(`${name}: not a server event of the protocol`);
		return;
	}
	const result = schema.safeParse(data);
	if (!result.success) {
		const issues = result.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.')}: ${issue.message}`);
		violations.push(`${name}: ${issues.join('; ')} in ${JSON.stringify(data).slice(0, 300)}`);
	}
}

/** The violations since the last call, forgotten. */
export function takeServerEventViolations(): string[] {
	return violations.splice(0);
}
