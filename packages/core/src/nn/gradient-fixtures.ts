/**
 * @internal Kept so that test files importing it for its side effect still work: registers the
 * backends, kernels and gradients exactly as `setBackend()` does.
 */
import { registerBackends } from '../backend/backend.js';

registerBackends();
