/**
 * Load scenarios: what each step of a run adds. A peer publishes some kinds
 * (on a send transport) and/or subscribes to everyone else in its room (on a
 * receive transport whose consumers go to the sink).
 */
import type { Kind } from './capture';

export type PeerSpec = { room: string; publish: readonly Kind[]; subscribe: boolean };

export type ScenarioOptions = { stepSize?: number; roomSize?: number };

export type Scenario = {
	name: ScenarioName;
	/** One line for people: what a step adds. */
	describe: string;
	/** The peers step `index` (0-based) adds. */
	step(index: number): PeerSpec[];
};

export const SCENARIO_NAMES = ['small', 'large', 'broadcast', 'audio'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const AV: readonly Kind[] = ['audio', 'video'];
const AUDIO: readonly Kind[] = ['audio'];
const LARGE_PUBLISHERS = 8;

/** Rooms of `roomSize` where everyone publishes `kinds` and receives the others. */
function meetings(name: ScenarioName, kinds: readonly Kind[], roomsPerStep: number, roomSize: number): Scenario {
	return {
		name,
		describe: `${roomsPerStep} rooms of ${roomSize} per step, everyone publishes ${kinds.join('+')} and receives the others`,
		step: (index) => Array.from({ length: roomsPerStep * roomSize }, (_, i) => ({
			room: `${name}-${index}-${Math.floor(i / roomSize)}`, publish: kinds, subscribe: true,
		})),
	};
}

export function scenario(name: ScenarioName, { stepSize, roomSize }: ScenarioOptions = {}): Scenario {
	switch (name) {
		case 'small':
			return meetings(name, AV, stepSize ?? 4, roomSize ?? 6);
		case 'audio':
			return meetings(name, AUDIO, stepSize ?? 10, roomSize ?? 8);
		case 'large': {
			const listeners = stepSize ?? 6;
			return {
				name,
				describe: `one room: ${LARGE_PUBLISHERS} peers publish audio+video and receive each other, then ${listeners} listeners per step`,
				step: (index) => index === 0
					? Array.from({ length: LARGE_PUBLISHERS }, () => ({ room: 'large', publish: AV, subscribe: true }))
					: Array.from({ length: listeners }, () => ({ room: 'large', publish: [], subscribe: true })),
			};
		}
		case 'broadcast': {
			const listeners = stepSize ?? 40;
			return {
				name,
				describe: `one room: one peer publishes audio+video, ${listeners} listeners per step`,
				step: (index) => [
					...(index === 0 ? [{ room: 'broadcast', publish: AV, subscribe: false }] : []),
					...Array.from({ length: listeners }, () => ({ room: 'broadcast', publish: [] as Kind[], subscribe: true })),
				],
			};
		}
	}
}

/** Consumers the peers should have in all: each subscriber gets every kind every other peer of its room publishes. */
export function expectedConsumers(peers: readonly PeerSpec[]): number {
	const byRoom = new Map<string, PeerSpec[]>();
	for (const peer of peers) {
		byRoom.set(peer.room, [...(byRoom.get(peer.room) ?? []), peer]);
	}
	let total = 0;
	for (const members of byRoom.values()) {
		const published = members.reduce((sum, p) => sum + p.publish.length, 0);
		for (const member of members) {
			if (member.subscribe) {
				total += published - member.publish.length;
			}
		}
	}
	return total;
}
