export { sniffMime, sniffType, extensionFor, type SniffedType, type MediaKind } from './sniff.js';
export {
  encodePreview,
  PreviewEncoder,
  PreviewEncodeError,
  type PreviewOptions,
  type PreviewFormat,
  type EncodedPreview,
} from './preview.js';
export { inspectImageInput, type ImageInputLimits, type ImageInputResult, type InputFormat } from './input.js';
export { fitToUploadLimit, type UploadFile, type FitResult } from './fit.js';
export { formatBytes, formatMegapixels, withExtension } from './format.js';
export { releaseLibvipsCache } from './libvips.js';
