import fc from 'fast-check';
import { qualityOf, type Quality, type QualityInput } from './quality';

const rank: Record<Quality, number> = { poor: 0, fair: 1, good: 2 };

describe('connection quality', () => {
	test.each<[string, QualityInput, Quality]>([
		['audio, a perfect score', { score: 10 }, 'good'],
		['audio, score 7', { score: 7 }, 'good'],
		['audio, score 6', { score: 6 }, 'fair'],
		['audio, score 4', { score: 4 }, 'fair'],
		['audio, score 3', { score: 3 }, 'poor'],
		['the layer wanted, score 10', { score: 10, layers: { wanted: 2, received: 2 } }, 'good'],
		['above the layer wanted', { score: 10, layers: { wanted: 1, received: 2 } }, 'good'],
		['one layer below', { score: 10, layers: { wanted: 2, received: 1 } }, 'fair'],
		['two layers below (a capped downlink)', { score: 10, layers: { wanted: 2, received: 0 } }, 'poor'],
		['nothing received', { score: 10, layers: { wanted: 0, received: null } }, 'poor'],
		['paused to fit the downlink', { score: 10, layers: { wanted: 0, received: 0, pausedToFit: true } }, 'poor'],
		['the layer wanted, a low score', { score: 5, layers: { wanted: 2, received: 2 } }, 'fair'],
		['the layer wanted, a bad score', { score: 2, layers: { wanted: 2, received: 2 } }, 'poor'],
		['the publisher sends only up to what is received', { score: 10, layers: { wanted: 2, received: 1, sent: 1 } }, 'good'],
		['the publisher sends more than is received', { score: 10, layers: { wanted: 2, received: 0, sent: 1 } }, 'fair'],
	])('%s: %s', (_name, input, quality) => {
		expect(qualityOf(input)).toBe(quality);
	});

	const anything = fc.oneof(fc.double(), fc.integer({ min: -5, max: 15 }), fc.constant(Number.NaN));
	const layers = fc.option(fc.record({
		wanted: anything,
		received: fc.option(anything, { nil: null }),
		sent: fc.option(anything, { nil: undefined }),
		pausedToFit: fc.option(fc.boolean(), { nil: undefined }),
	}, { requiredKeys: ['wanted', 'received'] }), { nil: undefined });

	test('garbage in (NaN, negative, huge) gives one of good, fair, poor, and NaN never gives good', () => {
		fc.assert(fc.property(anything, layers, (score, l) => {
			const quality = qualityOf({ score, ...(l ? { layers: l } : {}) });
			expect(['good', 'fair', 'poor']).toContain(quality);
			if (Number.isNaN(score) || (l && (Number.isNaN(l.wanted) || Number.isNaN(l.received)))) {
				expect(quality).not.toBe('good');
			}
		}));
	});

	test('a higher score or a higher layer received never makes it worse', () => {
		const score = fc.integer({ min: 0, max: 10 });
		const layer = fc.integer({ min: 0, max: 2 });
		fc.assert(fc.property(score, score, layer, layer, layer, (s1, s2, wanted, r1, r2) => {
			const [lo, hi] = s1 <= s2 ? [s1, s2] : [s2, s1];
			const [rlo, rhi] = r1 <= r2 ? [r1, r2] : [r2, r1];
			expect(rank[qualityOf({ score: hi, layers: { wanted, received: rlo } })]).toBeGreaterThanOrEqual(rank[qualityOf({ score: lo, layers: { wanted, received: rlo } })]);
			expect(rank[qualityOf({ score: lo, layers: { wanted, received: rhi } })]).toBeGreaterThanOrEqual(rank[qualityOf({ score: lo, layers: { wanted, received: rlo } })]);
		}));
	});
});
