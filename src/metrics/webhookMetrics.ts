import client from 'prom-client';
import type { Webhooks } from '../webhooks';

/** switchyard_webhook_*: deliveries by result and how long they took, events dropped by reason. Zero from the start. */
export function webhookMetrics(webhooks: Webhooks | undefined, registers: client.Registry[]): void {
	const deliveries = new client.Counter({
		name: 'switchyard_webhook_deliveries_total',
		help: 'Webhook delivery attempts: delivered (2xx), refused (another status), failed (no answer in webhooks.timeoutMs, no connection).',
		labelNames: ['result'], registers,
	});
	const seconds = new client.Histogram({
		name: 'switchyard_webhook_delivery_seconds', help: 'How long receivers took to answer a webhook delivery.',
		buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
	});
	const dropped = new client.Counter({
		name: 'switchyard_webhook_events_dropped_total',
		help: 'Webhook events never queued: queue_full (webhooks.queueSize), store_unavailable, cluster_unavailable (no seq from Redis).',
		labelNames: ['reason'], registers,
	});
	if (!webhooks) {
		return;
	}
	['delivered', 'refused', 'failed'].forEach((result) => deliveries.inc({ result }, 0));
	['queue_full', 'store_unavailable', 'cluster_unavailable'].forEach((reason) => dropped.inc({ reason }, 0));
	webhooks.observer.on('attempted', (result, took) => {
		deliveries.inc({ result });
		seconds.observe(took);
	});
	webhooks.observer.on('dropped', (reason) => dropped.inc({ reason }));
}
