/**
 * Gradient of `tf.conv2d` that also handles dilations. tfjs-core 4.22's own gradient asserts
 * dilation 1 ("dilation rates greater than 1 are not yet supported in gradients"); for dilation 1
 * this config computes exactly what tfjs's does (and passes `dimRoundingMode` on, which tfjs's
 * drops).
 *
 * A convolution with dilation `d` (tfjs allows it only with stride 1) equals an undilated one with
 * the zero-stuffed "effective" filter of size `(f − 1)·d + 1`; padding (`same`, `valid`, explicit)
 * is computed from that effective size in both cases. So:
 * - filter gradient = the undilated filter gradient for the effective shape, keeping every `d`-th
 *   tap (`stridedSlice`);
 * - input gradient = the undilated input gradient with the zero-stuffed filter.
 *
 * tfjs-node's `Conv2DBackpropFilter` and `Conv2DBackpropInput` accept only `'same'` and `'valid'`
 * padding (its forward `Conv2D` takes explicit padding too). On that backend a numeric or explicit
 * padding is therefore applied to `x` with `tf.pad` and the gradients are taken with `'valid'`:
 * the filter gradient of the padded input is the same, and the input gradient is the padded
 * input's with the padding cut off.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The dilated filter with zeros between taps: `[fh, fw, cin, cout]` → `[(fh−1)·dh+1, (fw−1)·dw+1, cin, cout]`. */
export function dilateFilter(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [fh, fw, cin, cout] = filter.shape;
  if (dh === 1 && dw === 1) return filter;
  return tf.tidy(() => {
    const spread = tf.pad(tf.reshape(filter, [fh, 1, fw, 1, cin, cout]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
    const stuffed = tf.reshape(spread, [fh * dh, fw * dw, cin, cout]);
    return tf.slice(stuffed, [0, 0, 0, 0], [(fh - 1) * dh + 1, (fw - 1) * dw + 1, cin, cout]) as tf.Tensor4D;
  });
}

/** Backends whose convolution-gradient kernels take only `'same'` and `'valid'` padding. */
const SAME_OR_VALID_ONLY = new Set(['tensorflow']);

/** `pad` as `[[top, bottom], [left, right]]` when it is numeric or explicit, else undefined. */
function explicitPadding(pad: tf.Conv2DAttrs['pad'], dataFormat: tf.Conv2DAttrs['dataFormat']): [[number, number], [number, number]] | undefined {
  if (pad === 'same' || pad === 'valid') return undefined;
  if (typeof pad === 'number') return [[pad, pad], [pad, pad]];
  const [h, w] = dataFormat === 'NCHW' ? [pad[2], pad[3]] : [pad[1], pad[2]];
  return [h, w];
}

/** Gradient config for the `Conv2D` kernel, dilations included. */
export const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x4D, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
    const [fh, fw, cin, cout] = filter.shape;
    const effective: [number, number, number, number] = [(fh - 1) * dh + 1, (fw - 1) * dw + 1, cin, cout];
    const explicit = SAME_OR_VALID_ONLY.has(tf.getBackend()) ? explicitPadding(pad, dataFormat) : undefined;
    if (explicit) return paddedGradients(dy as tf.Tensor4D, x4D, filter, explicit, { dh, dw, effective, strides, dataFormat });
    const common = { strides, pad, dataFormat, dimRoundingMode };
    return {
      x: () =>
        tf.engine().runKernel(
          tf.Conv2DBackpropInput,
          { dy: dy as tf.Tensor4D, filter: dilateFilter(filter, dh, dw) },
          { ...common, inputShape: x4D.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      filter: () => {
        const full = tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: x4D, dy: dy as tf.Tensor4D },
          { ...common, filterShape: effective } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D;
        if (dh === 1 && dw === 1) return full;
        return tf.stridedSlice(full, [0, 0, 0, 0], effective, [dh, dw, 1, 1]);
      },
    };
  },
};

/** The gradients with the padding applied to `x` first and `'valid'` convolutions (see the file comment). */
function paddedGradients(
  dy: tf.Tensor4D,
  x4D: tf.Tensor4D,
  filter: tf.Tensor4D,
  [[top, bottom], [left, right]]: [[number, number], [number, number]],
  { dh, dw, effective, strides, dataFormat }: { dh: number; dw: number; effective: [number, number, number, number]; strides: tf.Conv2DAttrs['strides']; dataFormat: tf.Conv2DAttrs['dataFormat'] },
): Record<string, () => tf.Tensor> {
  const nchw = dataFormat === 'NCHW';
  const pads: Array<[number, number]> = nchw ? [[0, 0], [0, 0], [top, bottom], [left, right]] : [[0, 0], [top, bottom], [left, right], [0, 0]];
  const common = { strides, pad: 'valid', dataFormat };
  return {
    x: () =>
      tf.tidy(() => {
        const paddedShape = x4D.shape.map((n, i) => n + pads[i][0] + pads[i][1]);
        const full = tf.engine().runKernel(
          tf.Conv2DBackpropInput,
          { dy, filter: dilateFilter(filter, dh, dw) },
          { ...common, inputShape: paddedShape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D;
        return tf.slice(full, pads.map((p) => p[0]), x4D.shape);
      }),
    filter: () =>
      tf.tidy(() => {
        const full = tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: tf.pad(x4D, pads), dy },
          { ...common, filterShape: effective } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D;
        if (dh === 1 && dw === 1) return full;
        return tf.stridedSlice(full, [0, 0, 0, 0], effective, [dh, dw, 1, 1]);
      }),
  };
}
