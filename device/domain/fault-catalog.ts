/**
 * Every fault the box can show: a stable code for IT and plain words for the tutor,
 * Simplified Chinese first, English alongside. The kiosk page renders these; the
 * status API returns the code so IT can look it up.
 */
export interface FaultText {
  readonly zh: string;
  readonly en: string;
  /** What the tutor can do about it. */
  readonly actionZh: string;
  readonly actionEn: string;
}

export const FAULTS = {
  'E-JANUS-UNREACHABLE': {
    zh: '无法连接课堂服务器',
    en: "Can't reach the class server",
    actionZh: '请检查网络连接，稍后再按绿色按钮重试',
    actionEn: 'Check the network cable or Wi-Fi, then press the green button to try again',
  },
  'E-JANUS-REFUSED': {
    zh: '课堂服务器拒绝了连接',
    en: 'The class server refused the connection',
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-ROOM-MISSING': {
    zh: '找不到本节课的课堂',
    en: "This class's room does not exist",
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-ROOM-PIN': {
    zh: '课堂密码不正确',
    en: 'The room password is wrong',
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-ROOM-FULL': {
    zh: '课堂人数已满',
    en: 'The class room is full',
    actionZh: '请稍后再按绿色按钮重试',
    actionEn: 'Press the green button again in a moment',
  },
  'E-JOIN-TIMEOUT': {
    zh: '进入课堂超时',
    en: 'Joining the class took too long',
    actionZh: '请按绿色按钮重试',
    actionEn: 'Press the green button to try again',
  },
  'E-KIOSK-DOWN': {
    zh: '屏幕程序未就绪',
    en: 'The screen program is not ready',
    actionZh: '请稍等，系统正在自动恢复',
    actionEn: 'Please wait, the box is fixing itself',
  },
  'E-MEDIA-FAILED': {
    zh: '音视频连接失败',
    en: 'The audio and video connection failed',
    actionZh: '请按绿色按钮重试',
    actionEn: 'Press the green button to try again',
  },
  'E-CONNECTION-LOST': {
    zh: '与课堂的连接中断，正在重新连接',
    en: 'Lost the connection to the class, reconnecting',
    actionZh: '请稍等，无需操作',
    actionEn: 'Please wait, nothing to do',
  },
  // Issue 19: the class's media node died and the class moves to another one.
  'E-NODE-MOVED': {
    zh: '课堂服务器故障，正在转到备用服务器',
    en: 'The class server failed; moving the class to a standby server',
    actionZh: '请稍等，无需操作',
    actionEn: 'Please wait, nothing to do',
  },
  'E-CAMERA-MISSING': {
    zh: '未找到摄像头',
    en: 'No camera found',
    actionZh: '请检查摄像头的USB线是否插好；课堂可以只用声音继续',
    actionEn: 'Check the camera USB cable; the class can go on with sound only',
  },
  'E-MICROPHONE-MISSING': {
    zh: '未找到麦克风',
    en: 'No microphone found',
    actionZh: '请检查麦克风是否插好',
    actionEn: 'Check that the microphone is plugged in',
  },
  'E-CAMERA-NO-PICTURE': {
    zh: '摄像头没有画面',
    en: 'The camera shows no picture',
    actionZh: '请拔下摄像头的USB线再插上；课堂可以只用声音继续',
    actionEn: 'Unplug the camera USB cable and plug it back in; the class can go on with sound only',
  },
  'E-MICROPHONE-SILENT': {
    zh: '麦克风没有声音',
    en: 'The microphone hears nothing',
    actionZh: '请检查麦克风是否打开、是否被静音，并对着麦克风说话',
    actionEn: 'Check that the microphone is switched on and not muted, and speak into it',
  },
  'E-SPEAKER-MISSING': {
    zh: '未找到扬声器',
    en: 'No speaker found',
    actionZh: '请检查电视或音箱的连接线和电源',
    actionEn: 'Check the cable and power of the TV or speaker',
  },
  'E-SPEAKER-FAILED': {
    zh: '扬声器无法播放测试音',
    en: "The speaker can't play the test tone",
    actionZh: '请检查电视或音箱的音量和连接线',
    actionEn: 'Check the volume and the cable of the TV or speaker',
  },
  'E-NETWORK-DOWN': {
    zh: '网络不通',
    en: 'The network is down',
    actionZh: '请检查网线或无线网络，并重启路由器',
    actionEn: 'Check the network cable or Wi-Fi and restart the router',
  },
  'E-GPIO': {
    zh: '按钮无法使用',
    en: "The buttons don't work",
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-GPIO-CHIP': {
    zh: '找不到按钮的接口',
    en: "The buttons' connector was not found",
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-GPIO-BUSY': {
    zh: '按钮的接口被其他程序占用',
    en: "The buttons' pins are in use by something else",
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-GPIO-ACCESS': {
    zh: '没有权限使用按钮',
    en: 'No permission to use the buttons',
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-GPIO-BIAS': {
    zh: '无法设置按钮的上拉电阻，按钮可能失灵',
    en: "Couldn't set the buttons' pull-up: they may not respond",
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-BUTTON-STUCK': {
    zh: '按钮一直处于按下状态',
    en: 'A button is stuck down',
    actionZh: '请松开或检查按钮；松开后即可正常使用',
    actionEn: 'Release or check the button; it works again once released',
  },
  'E-BUTTON-USB-MISSING': {
    zh: '未找到USB按钮',
    en: 'The USB button is not plugged in',
    actionZh: '请检查USB按钮是否插好；插上后即可使用，无需重启',
    actionEn: 'Check that the USB button is plugged in; it works as soon as it is, no restart needed',
  },
  'E-BUTTON-USB-ACCESS': {
    zh: '没有权限读取USB按钮',
    en: 'No permission to read the USB button',
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-CAMERA-BRIDGE': {
    zh: '摄像头转接程序缺少组件',
    en: 'The camera bridge is missing a part',
    actionZh: '请联系信息技术人员，并告知代码；课堂可以只用声音继续',
    actionEn: 'Call IT and tell them the code; the class can go on with sound only',
  },
  'E-NOT-ENROLLED': {
    zh: '本设备尚未登记',
    en: 'This box is not enrolled yet',
    actionZh: '请联系信息技术人员：需要一张带登记文件的存储卡',
    actionEn: 'Call IT: the box needs a card flashed with its enrolment file',
  },
  'E-NOT-CONFIGURED': {
    zh: '本设备尚未配置课堂',
    en: 'This box has no class room set up yet',
    actionZh: '正在等待总部下发配置，请联系信息技术人员',
    actionEn: 'Waiting for headquarters to send the settings; call IT',
  },
  'E-DISK-FULL': {
    zh: '存储空间已满',
    en: 'The storage is full',
    actionZh: '本设备继续使用上次的设置上课；请联系信息技术人员',
    actionEn: 'The box keeps its last settings and classes go on; call IT',
  },
  'E-DISK-READONLY': {
    zh: '存储卡只读，无法保存设置',
    en: 'The SD card is read-only: settings cannot be saved',
    actionZh: '本设备继续使用上次的设置上课；请联系信息技术人员',
    actionEn: 'The box keeps its last settings and classes go on; call IT',
  },
  'E-DISK': {
    zh: '存储出错',
    en: 'The storage has a problem',
    actionZh: '请联系信息技术人员，并告知代码',
    actionEn: 'Call IT and tell them the code',
  },
  'E-INTERNAL': {
    zh: '设备出现内部错误',
    en: 'The box had an internal error',
    actionZh: '请按绿色按钮重试；如仍不行，请联系信息技术人员',
    actionEn: 'Press the green button to try again; if it keeps happening, call IT',
  },
} as const satisfies Record<string, FaultText>;

export type FaultCode = keyof typeof FAULTS;

export function faultText(code: string): FaultText {
  return (FAULTS as Record<string, FaultText>)[code] ?? FAULTS['E-INTERNAL'];
}
