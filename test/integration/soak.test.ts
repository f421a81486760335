import { runSoak } from '../../scripts/soak';

// The short soak CI runs; `npm run soak` runs 1,000 cycles (docs/soak.md).
test('a short soak: objects back to zero, RSS within bound, no worker restart', async () => {
	const result = await runSoak({ cycles: 80, rssGrowthMb: 60, timeoutSeconds: 120 });
	expect(result.objectsAtEnd).toEqual({ routers: 0, webRtcTransports: 0, consumers: 0, producers: 0, transports: 0 });
	expect(result.cycles).toBe(80);
	expect(result.workerRestarts).toBe(0);
	expect(result.rssGrowthMb).toBeLessThanOrEqual(60);
	expect(result.passed).toBe(true);
}, 150_000);
