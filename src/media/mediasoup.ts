// NOTE: the logging bridge hooks the `debug` package, which must happen before
// mediasoup creates its module-level loggers: import it first. Everything in
// the project reaches mediasoup through this module.
import '../logging';
import * as mediasoup from 'mediasoup';

export { mediasoup };
export type { types as ms } from 'mediasoup';
