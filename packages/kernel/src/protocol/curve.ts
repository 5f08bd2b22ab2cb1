/**
 * CurveZMQ transport encryption, as jupyter_client 8.10 provisions it: with
 * `KernelManager.transport_encryption = 'auto' | 'required'` the manager writes a Z85 keypair
 * (`curve_publickey`, `curve_secretkey`) into the connection file, the kernel makes every socket a
 * Curve server with it, and clients connect as Curve clients that know the server's public key.
 * A peer without that key fails the handshake: it gets no reply and no IOPub message.
 * @see http://curvezmq.org/
 * @see https://rfc.zeromq.org/spec/26/
 */
import * as zmq from 'zeromq';

/** A Curve keypair, both keys Z85-encoded (40 characters), as in a connection file. */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** The kernelspec's `metadata.supported_encryption` value that jupyter_client looks for. */
export const CURVE_ENCRYPTION = 'curve';

/** A Z85-encoded 32-byte key: 40 characters of the Z85 alphabet. */
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** Whether `key` is a Z85-encoded Curve key. */
export function isZ85Key(key: unknown): key is string {
  return typeof key === 'string' && Z85_KEY.test(key);
}

/** Whether this zeromq build has CURVE (libzmq built with libsodium or tweetnacl). */
export function curveSupported(): boolean {
  return zmq.capability.curve === true;
}

/** A fresh Z85 keypair (what `zmq.curve_keypair()` gives jupyter_client). */
export function newCurveKeyPair(): CurveKeyPair {
  return zmq.curveKeyPair();
}

function requireCurve(): void {
  if (!curveSupported()) {
    throw new Error('CurveZMQ keys were given but this zeromq build has no CURVE support (zmq.capability.curve is false); refusing to run unencrypted');
  }
}

/**
 * Makes a socket a Curve server with the kernel's keypair, as ipykernel's
 * `_apply_curve_server_options` does; call it before `bind`.
 */
export function makeCurveServer(socket: zmq.Socket, keys: CurveKeyPair): void {
  requireCurve();
  socket.curveServer = true;
  socket.curveSecretKey = keys.secretKey;
  socket.curvePublicKey = keys.publicKey;
}

/**
 * Makes a socket a Curve client of a server whose public key is `serverKey`; call it before
 * `connect`. The client's own keypair is ephemeral unless given: only the server key authenticates.
 */
export function makeCurveClient(socket: zmq.Socket, serverKey: string, clientKeys: CurveKeyPair = newCurveKeyPair()): void {
  requireCurve();
  socket.curveServerKey = serverKey;
  socket.curvePublicKey = clientKeys.publicKey;
  socket.curveSecretKey = clientKeys.secretKey;
}
