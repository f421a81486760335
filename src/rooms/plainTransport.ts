import type { MediaConfig } from '../config';
import { fromMediasoupError, type ms } from '../media';
import type { TransportAppData, TransportDirection } from './types';

export type PlainTransportOptions = {
	direction: TransportDirection;
	/** The generator's SRTP key: what it encrypts with (send) or expects (recv). */
	srtpParameters: ms.SrtpParameters;
	/** Where a receive transport sends; a send transport learns it (comedia). */
	remote?: { ip: string; port: number };
};

/**
 * A PlainTransport with SRTP (AEAD_AES_256_GCM) of the peer `peerId`, for a
 * load generator. A send transport learns the generator's address from its
 * first packet (comedia); a receive transport sends to `remote`.
 * @throws validation_failed for parameters the worker refuses
 */
export async function createPlainTransport(
	router: ms.Router, media: Pick<MediaConfig, 'listenIp' | 'announcedAddress'>, peerId: string, options: PlainTransportOptions,
): Promise<ms.PlainTransport<TransportAppData>> {
	const { direction, srtpParameters, remote } = options;
	const transport = await router.createPlainTransport<TransportAppData>({
		listenIp: { ip: media.listenIp, announcedIp: media.announcedAddress ?? undefined },
		rtcpMux: true,
		comedia: direction === 'send',
		enableSrtp: true,
		srtpCryptoSuite: 'AEAD_AES_256_GCM',
		appData: { peerId, direction, plain: true },
	});
	try {
		await transport.connect({ ...remote, srtpParameters });
	} catch (error) {
		transport.close();
		throw fromMediasoupError(error, 'srtpParameters');
	}
	return transport;
}
