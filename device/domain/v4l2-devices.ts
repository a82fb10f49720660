/**
 * USB (UVC) cameras among the kernel's video4linux nodes, as read from sysfs, and the label
 * Chromium gives each one in `MediaDeviceInfo.label`, so the page can pick it in getUserMedia.
 */
export interface V4l2Node {
  /** "video0" */
  readonly node: string;
  /** The V4L2 device name; for uvcvideo this is also VIDIOC_QUERYCAP's `card`. */
  readonly name: string;
  /** Which node of its device this is: a UVC camera's capture node is 0, its metadata node 1. */
  readonly index: number;
  /** DRIVER= of the parent device's uevent, e.g. "uvcvideo", "bcm2835-codec"; absent for virtual nodes. */
  readonly driver?: string;
  /** PRODUCT= of the USB interface's uevent: "vid/pid/bcdDevice" in hex without leading zeros. */
  readonly product?: string;
}

export interface UvcCamera {
  readonly path: string;
  readonly name: string;
  /** "046d:082d" */
  readonly usbId?: string;
  readonly browserLabel: string;
}

/**
 * The capture nodes of UVC cameras. Since Linux 4.16 uvcvideo adds a metadata node (index 1)
 * after each camera's capture node (index 0); Chromium lists only the capture one. The Pi's own
 * nodes (bcm2835-codec, bcm2835-isp, rp1-cfe, pispbe) are memory-to-memory or raw sensor
 * pipelines, not cameras Chromium can open.
 */
export function uvcCameras(nodes: readonly V4l2Node[]): UvcCamera[] {
  return asCameras(nodes.filter((n) => n.driver === 'uvcvideo' && n.index === 0));
}

/** The Pi's own video nodes: codecs, ISPs and raw sensor receivers, never a camera Chromium can open. */
const PI_INTERNAL_DRIVERS = new Set(['bcm2835-codec', 'bcm2835-isp', 'pispbe', 'rp1-cfe', 'unicam']);

/**
 * Camera kind `v4l2`: the first node of every video device but the Pi's own, UVC or not — an HDMI
 * capture card with its own driver, a v4l2loopback device, or the kernel's `vivid` test camera in the
 * virtual machine of issue 14. Chromium opens any V4L2 capture node directly.
 */
export function v4l2Cameras(nodes: readonly V4l2Node[]): UvcCamera[] {
  return asCameras(nodes.filter((n) => n.index === 0 && !PI_INTERNAL_DRIVERS.has(n.driver ?? '')));
}

function asCameras(nodes: readonly V4l2Node[]): UvcCamera[] {
  return [...nodes]
    .sort((a, b) => nodeNumber(a.node) - nodeNumber(b.node))
    .map((n) => {
      const usbId = usbIdOf(n.product);
      return {
        path: `/dev/${n.node}`,
        name: n.name,
        usbId,
        // Chromium's VideoCaptureDeviceDescriptor::GetNameAndModel(): "<card> (<vid>:<pid>)".
        browserLabel: usbId ? `${n.name} (${usbId})` : n.name,
      };
    });
}

/** The configured camera (case-insensitive part of its name) or, without one, the first camera. */
export function chooseCamera<T extends { name: string }>(
  cameras: readonly T[],
  fragment?: string,
): T | undefined {
  if (fragment === undefined) return cameras[0];
  const wanted = fragment.toLowerCase();
  return cameras.find((c) => c.name.toLowerCase().includes(wanted));
}

function usbIdOf(product: string | undefined): string | undefined {
  const match = /^([0-9a-f]{1,4})\/([0-9a-f]{1,4})\//i.exec(product ?? '');
  if (!match) return undefined;
  return `${match[1]!.toLowerCase().padStart(4, '0')}:${match[2]!.toLowerCase().padStart(4, '0')}`;
}

function nodeNumber(node: string): number {
  return Number(node.replace(/\D/g, ''));
}
