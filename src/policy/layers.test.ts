import { decideSubscriber, DEFAULT_POLICY, estimateBitrate, layerForHeight, neededEncodings, publisherCap, type ConsumerInput, type SubscriberInput } from './layers';

const audio = (peer: string): ConsumerInput => ({ id: `a-${peer}`, kind: 'audio', source: 'mic', producerId: `pa-${peer}`, producerPeerId: peer, spatialLayers: 1 });
const video = (peer: string, tile?: ConsumerInput['tile'], source: ConsumerInput['source'] = 'camera'): ConsumerInput =>
	({ id: `v-${peer}`, kind: 'video', source, producerId: `pv-${peer}`, producerPeerId: peer, spatialLayers: 3, tile });

function room(size: number, tiles: Record<string, ConsumerInput['tile']>, extra: Partial<SubscriberInput> = {}): SubscriberInput {
	const peers = Object.keys(tiles);
	return { roomSize: size, activeSpeakerPeerId: null, consumers: peers.flatMap((p) => [audio(p), video(p, tiles[p])]), ...extra };
}

describe('layer policy', () => {
	test.each([[90, 0], [200, 0], [201, 1], [400, 1], [401, 2], [1080, 2]])('a tile %i px high wants layer %i', (height, layer) => {
		expect(layerForHeight(height)).toBe(layer);
	});

	test.each([
		// room size, tile height, speaker?, expected layer
		[2, 720, false, 2], [4, 720, false, 2], [5, 720, false, 1], [9, 720, false, 1], [10, 720, false, 0], [50, 720, false, 0],
		[10, 720, true, 2], [50, 720, true, 2], [2, 150, false, 0], [2, 300, false, 1], [50, 150, true, 0],
	])('room of %i, tile %i px, speaker %s: layer %i', (size, height, speaker, layer) => {
		const input = room(size, { p1: { height, visible: true } }, { activeSpeakerPeerId: speaker ? 'p1' : null });
		expect(decideSubscriber(input).get('v-p1')).toMatchObject({ paused: false, spatialLayer: layer });
	});

	test('a speaker change moves the best layer and the priority to the new speaker, in a room of 12', () => {
		const tiles = { a: { height: 720, visible: true }, b: { height: 720, visible: true }, c: { height: 720, visible: true } };
		const layers = (speaker: string | null) => {
			const d = decideSubscriber(room(12, tiles, { activeSpeakerPeerId: speaker }));
			return ['a', 'b', 'c'].map((p) => `${d.get(`v-${p}`)!.spatialLayer}/${d.get(`v-${p}`)!.priority}`);
		};
		expect(layers(null)).toEqual(['0/100', '0/100', '0/100']);
		expect(layers('a')).toEqual(['2/200', '0/100', '0/100']);
		expect(layers('b')).toEqual(['0/100', '2/200', '0/100']);
	});

	test.each([
		// tile height, speaker?, degraded?, expected layer
		[720, false, false, 2], [720, false, true, 1], [300, false, true, 0], [90, false, true, 0], [720, true, true, 1],
	])('a tile %i px high, speaker %s, received badly %s: layer %i', (height, speaker, degraded, layer) => {
		const input = room(3, { p1: { height, visible: true } }, { activeSpeakerPeerId: speaker ? 'p1' : null });
		input.consumers = input.consumers.map((c) => ({ ...c, degraded }));
		expect(decideSubscriber(input).get('v-p1')).toMatchObject({ paused: false, spatialLayer: layer });
		expect(decideSubscriber(input).get('a-p1')).toMatchObject({ paused: false });
	});

	test('a hidden tile is paused; audio never is, and comes first', () => {
		const decisions = decideSubscriber(room(3, { p1: { height: 720, visible: false }, p2: { height: 720, visible: true } }));
		expect(decisions.get('v-p1')!.paused).toBe(true);
		expect(decisions.get('v-p2')!.paused).toBe(false);
		expect(decisions.get('a-p1')).toMatchObject({ paused: false, priority: 255 });
		expect(decisions.get('a-p1')!.priority).toBeGreaterThan(decisions.get('v-p2')!.priority);
	});

	test('the active speaker and pinned tiles rank above the rest; screen share keeps its resolution in a big room', () => {
		const input: SubscriberInput = {
			roomSize: 20, activeSpeakerPeerId: 'sp',
			consumers: [video('sp', { height: 720, visible: true }), video('pin', { height: 720, visible: true, pinned: true }),
				video('other', { height: 720, visible: true }), { ...video('scr', { height: 720, visible: true }, 'screen'), id: 's-scr' }],
		};
		const d = decideSubscriber(input);
		expect(d.get('v-sp')).toMatchObject({ spatialLayer: 2 });
		expect(d.get('v-pin')).toMatchObject({ spatialLayer: 2 });
		expect(d.get('v-other')).toMatchObject({ spatialLayer: 0 });
		expect(d.get('s-scr')).toMatchObject({ spatialLayer: 2 });
		expect(d.get('v-sp')!.priority).toBeGreaterThan(d.get('v-pin')!.priority);
		expect(d.get('v-pin')!.priority).toBeGreaterThan(d.get('v-other')!.priority);
	});

	test.each([
		// downlink, expectation
		[10_000_000, 'all at their layers'], [2_000_000, 'others step down first'], [700_000, 'non-speaker video paused'], [100_000, 'only audio'],
	])('downlink %i bps: %s; audio never loses anything', (downlink) => {
		const input = room(4, { sp: { height: 720, visible: true }, p2: { height: 720, visible: true }, p3: { height: 720, visible: true } },
			{ activeSpeakerPeerId: 'sp', downlinkBps: downlink });
		const d = decideSubscriber(input);
		for (const peer of ['sp', 'p2', 'p3']) {
			expect(d.get(`a-${peer}`)!.paused).toBe(false);
		}
		const cost = estimateBitrate(input, d);
		const audioOnly = 3 * DEFAULT_POLICY.audioBitrate;
		expect(cost <= downlink || cost === audioOnly).toBe(true);
		const speaker = d.get('v-sp')!;
		for (const peer of ['p2', 'p3']) {
			const other = d.get(`v-${peer}`)!;
			// The speaker is never worse off than anyone else.
			expect(speaker.paused ? other.paused : true).toBe(true);
			if (!speaker.paused && !other.paused) {
				expect(speaker.spatialLayer).toBeGreaterThanOrEqual(other.spatialLayer);
			}
		}
	});

	test.each([[2_000_000], [700_000], [100_000]])('an estimated downlink of %i bps steps video down but never pauses it', (estimate) => {
		const input = room(4, { sp: { height: 720, visible: true }, p2: { height: 720, visible: true }, p3: { height: 720, visible: true } },
			{ activeSpeakerPeerId: 'sp', estimatedDownlinkBps: estimate });
		const d = decideSubscriber(input);
		expect([...d.values()].every((decision) => !decision.paused)).toBe(true);
		const cost = estimateBitrate(input, d);
		const lowest = 3 * DEFAULT_POLICY.audioBitrate + 3 * DEFAULT_POLICY.layerBitrates[0]!;
		expect(cost <= estimate || cost === lowest).toBe(true);
		expect(d.get('v-sp')!.spatialLayer).toBeGreaterThanOrEqual(d.get('v-p2')!.spatialLayer);
	});

	test('publisher caps fall as rooms grow', () => {
		const caps = [2, 4, 5, 9, 10, 24, 25, 50].map((n) => publisherCap(n));
		for (let i = 1; i < caps.length; i++) {
			expect(caps[i]).toBeLessThanOrEqual(caps[i - 1]!);
		}
		expect(publisherCap(50)).toBeLessThan(publisherCap(2));
	});

	test('dynacast: encodings above the highest layer anyone receives are not needed', () => {
		const small = room(3, { pub: { height: 100, visible: true } });
		const hidden = room(3, { pub: { height: 720, visible: false } });
		const subscribers = [small, hidden].map((input) => ({ consumers: input.consumers, decisions: decideSubscriber(input) }));
		expect(neededEncodings([{ id: 'pv-pub', spatialLayers: 3 }], subscribers).get('pv-pub')).toEqual([true, false, false]);
		const large = room(3, { pub: { height: 720, visible: true } });
		subscribers.push({ consumers: large.consumers, decisions: decideSubscriber(large) });
		expect(neededEncodings([{ id: 'pv-pub', spatialLayers: 3 }], subscribers).get('pv-pub')).toEqual([true, true, true]);
		expect(neededEncodings([{ id: 'pv-pub', spatialLayers: 3 }], subscribers.slice(1, 2)).get('pv-pub')).toEqual([true, false, false]);
		const medium = room(3, { pub: { height: 300, visible: true } });
		expect(neededEncodings([{ id: 'pv-pub', spatialLayers: 3 }], [{ consumers: medium.consumers, decisions: decideSubscriber(medium) }]).get('pv-pub')).toEqual([true, true, false]);
	});
});
