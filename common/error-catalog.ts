/**
 * Every error code of classbox, each with plain words in Simplified Chinese and English. The codes
 * are stable: IT looks them up, the status API, heartbeats and update reports carry them, and the
 * fleet keeps them in its history, so a code is never renamed. The error classes take their code's
 * type from here (`ErrorCode`), so a code that is not in this catalogue does not compile.
 *
 * Two parts: `FAULTS`, what the box shows the tutor on its screen (with what to do about it), and
 * `IT_ERRORS`, what only IT sees (logs, the dashboard, the fleet API, the command-line tools).
 */
export interface ErrorText {
  readonly zh: string;
  readonly en: string;
}

/** A fault on the box's screen: what happened, and what the tutor can do about it. */
export interface FaultText extends ErrorText {
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

/** Errors only IT sees: in the box's log and status, on the dashboard, from the fleet API and the tools. */
export const IT_ERRORS = {
  // The box (logs, /api/status, heartbeats).
  'E-CONFIG': { zh: '设备配置文件有误', en: "The box's config file is invalid" },
  'E-NOT-SIM': {
    zh: '只有模拟模式才能这样操作',
    en: 'This can only be simulated when hardware.mode is "sim"',
  },
  'E-PROCESS': { zh: '辅助程序无法运行', en: "A helper program couldn't run" },
  'E-CAMERA-STILL': { zh: '无法从摄像头拍照', en: "Couldn't take a still picture from the camera" },
  'E-FLEET-UNREACHABLE': { zh: '无法连接设备管理服务器', en: "Can't reach the fleet server" },
  'E-FLEET-REFUSED': { zh: '设备管理服务器拒绝了请求', en: 'The fleet server refused the request' },
  'E-FLEET-BAD-RESPONSE': {
    zh: '设备管理服务器的回答无法识别',
    en: "The fleet server's answer is not understood",
  },
  'E-FLEET-STATE': {
    zh: '本设备的登记信息无法读取或保存',
    en: "The box's fleet state can't be read or saved",
  },
  // The box's updates (update reports in the heartbeats, the fleet's history).
  'E-UPDATE-SPACE': { zh: '存储空间不足，无法更新', en: 'Not enough space for the update' },
  'E-UPDATE-DOWNLOAD': { zh: '更新下载失败', en: 'The update download failed' },
  'E-UPDATE-HASH': { zh: '更新文件的校验值不符', en: "The update file's checksum does not match" },
  'E-UPDATE-SIZE': { zh: '更新文件的大小不符', en: "The update file's size does not match" },
  'E-UPDATE-SIGNATURE': { zh: '更新的签名无效', en: "The update's signature is not valid" },
  'E-UPDATE-KEY-UNKNOWN': {
    zh: '更新由本设备不信任的密钥签名',
    en: 'The update is signed with a key this box does not trust',
  },
  'E-UPDATE-MANIFEST': { zh: '更新的清单无效', en: "The update's manifest is invalid" },
  'E-UPDATE-ARCH': { zh: '更新不适用于本设备的处理器', en: 'The update is built for another processor' },
  'E-UPDATE-NODE-ABI': {
    zh: '更新与本设备的 Node.js 不兼容',
    en: "The update doesn't fit this box's Node.js",
  },
  'E-UPDATE-OS': { zh: '更新需要较新的操作系统', en: 'The update needs a newer operating system' },
  'E-UPDATE-DOWNGRADE': {
    zh: '更新的版本比本设备运行过的版本旧',
    en: 'The update is older than a version this box has run',
  },
  'E-UPDATE-UNPACK': { zh: '更新无法解包', en: "The update can't be unpacked" },
  'E-UPDATE-SWITCH': { zh: '无法切换到新版本', en: "Couldn't switch to the new version" },
  'E-UPDATE-STATE': { zh: '更新记录无法读取或保存', en: "The update's record can't be read or saved" },
  'E-UPDATE-RESTART': { zh: '更新后无法重启程序', en: "Couldn't restart the program after the update" },
  'E-UPDATE-CRASH-LOOP': {
    zh: '新版本反复启动失败，已退回旧版本',
    en: 'The new version kept failing to start and was rolled back',
  },
  'E-UPDATE-UNHEALTHY': {
    zh: '新版本未能正常运行，已退回旧版本',
    en: 'The new version did not become healthy in time and was rolled back',
  },
  // Lesson catch-up (issue 21): the box's fetches (logs, heartbeats) and the fleet's cuts (its API).
  'E-CATCHUP-NO-RECORDING': {
    zh: '找不到这段课堂的录像',
    en: 'There is no recording of that part of the class',
  },
  'E-CATCHUP-RECORDING-BAD': {
    zh: '课堂录像已损坏，无法剪辑',
    en: "The class recording is damaged and can't be cut",
  },
  'E-CATCHUP-TOOLS': {
    zh: '服务器缺少录像处理程序（janus-pp-rec、ffmpeg）',
    en: 'The server lacks the recording tools (janus-pp-rec, ffmpeg)',
  },
  'E-CATCHUP-DOWNLOAD': { zh: '补课视频下载失败', en: 'The catch-up video download failed' },
  'E-CATCHUP-CUT-SLOW': {
    zh: '服务器剪辑录像超时，稍后重试',
    en: 'The server took too long to cut the recording; it is tried again later',
  },
  'E-CATCHUP-REFUSED': {
    zh: '服务器拒绝剪辑这段课堂录像，不再重试',
    en: 'The fleet server refused to cut this part of the class; not asked again',
  },
  'E-CATCHUP-HASH': { zh: '补课视频的校验值不符', en: "The catch-up video's checksum does not match" },
  'E-CATCHUP-SPACE': {
    zh: '存储空间不足，无法保存补课视频',
    en: 'Not enough space to keep the catch-up video',
  },
  'E-CATCHUP-STATE': { zh: '补课记录无法读取或保存', en: "The catch-up record can't be read or saved" },
  // The fleet server's API (`{"error": {code, message}}`).
  'E-BAD-REQUEST': { zh: '请求内容有误', en: 'The request is invalid' },
  'E-NOT-FOUND': { zh: '找不到所请求的内容', en: 'Not found' },
  // Media nodes (issue 19).
  'E-NODE-UNREACHABLE': { zh: '无法连接媒体服务器', en: "Can't reach the media node" },
  'E-NODE-REFUSED': { zh: '媒体服务器拒绝了请求', en: 'The media node refused the request' },
  'E-NODE-BAD-ANSWER': {
    zh: '媒体服务器的回答无法识别',
    en: "The media node's answer is not the Janus admin protocol",
  },
  'E-NOT-PLACED': { zh: '该课堂尚未分配媒体服务器', en: 'The class is not placed on a media node' },
  'E-NODE-IN-USE': {
    zh: '该媒体服务器上的课堂无法转移到其他服务器',
    en: 'The media node carries classes no other node can take',
  },
  'E-CONFLICT': { zh: '与已有的内容冲突', en: 'Conflicts with what exists already' },
  'E-TOO-LARGE': { zh: '请求内容过大', en: 'The request is too large' },
  'E-UNSUPPORTED-MEDIA-TYPE': {
    zh: '请求内容的格式不受支持',
    en: "The request's content type is not supported",
  },
  'E-RATE-LIMITED': { zh: '请求过于频繁，请稍后再试', en: 'Too many requests; try again later' },
  'E-AUTH-MISSING': { zh: '缺少管理员凭据', en: 'No admin credential was sent' },
  'E-AUTH-BAD': { zh: '管理员凭据无效', en: 'The admin credential is not valid' },
  'E-AUTH-EXPIRED': { zh: '管理员凭据已过期', en: 'The admin credential has expired' },
  'E-AUTH-LOCKED': { zh: '登录失败次数过多，请稍后再试', en: 'Too many failed sign-ins; try again later' },
  'E-AUTH-WEAK': { zh: '管理员凭据强度不够', en: 'The admin credential is too weak' },
  'E-FORBIDDEN': { zh: '设备只能访问自己的资源', en: 'A box may only use its own resources' },
  'E-SIGNATURE-MISSING': { zh: '设备的请求没有签名', en: "The box's request is not signed" },
  'E-SIGNATURE-BAD': { zh: '设备请求的签名无效', en: "The box's request signature is not valid" },
  'E-REPLAY': { zh: '重复发送的请求已被拒绝', en: 'A request sent before was refused' },
  'E-CLOCK-SKEW': { zh: '设备的时钟与服务器相差太大', en: "The box's clock is too far from the server's" },
  'E-TOKEN-UNKNOWN': { zh: '登记令牌不存在', en: 'The enrolment token is unknown' },
  'E-TOKEN-USED': { zh: '登记令牌已被使用', en: 'The enrolment token was used already' },
  'E-TOKEN-REVOKED': { zh: '登记令牌已被撤销', en: 'The enrolment token was revoked' },
  'E-TOKEN-EXPIRED': { zh: '登记令牌已过期', en: 'The enrolment token has expired' },
  'E-TOKEN-CLOSED': { zh: '登记令牌已被使用或撤销', en: 'The enrolment token was used or revoked already' },
  'E-DEVICE-ENROLLED': { zh: '该设备已经登记', en: 'The box is enrolled already' },
  'E-DEVICE-OTHER-CENTRE': { zh: '该设备属于另一个教学点', en: 'The box belongs to another centre' },
  'E-CENTRE-INVALID': { zh: '教学点的设置无效', en: "The centre's settings are invalid" },
  'E-RELEASE-EXISTS': { zh: '该版本已经存在', en: 'The release exists already' },
  'E-RELEASE-KEYS-UNSET': { zh: '服务器没有设置可信的发布密钥', en: 'The server trusts no release key' },
  'E-RELEASE-KEY-UNKNOWN': {
    zh: '该版本由设备不信任的密钥签名',
    en: 'The release is signed with a key the boxes do not trust',
  },
  'E-RELEASE-SIGNATURE': { zh: '该版本的签名无效', en: "The release's signature is not valid" },
  'E-RELEASE-READY': { zh: '该版本已上传完毕，不能更改', en: "The release is complete and can't be changed" },
  'E-RELEASE-NOT-READY': { zh: '该版本尚未上传安装包', en: 'The release has no payload yet' },
  'E-PAYLOAD-MISMATCH': {
    zh: '安装包与版本清单不符',
    en: "The payload does not match the release's manifest",
  },
  'E-ROLLOUT-DOWNGRADE': {
    zh: '该版本比已经推送的版本旧',
    en: 'The release is older than one rolled out already',
  },
  'E-ROLLOUT-STATE': { zh: '推送的当前状态不允许此操作', en: "The rollout's state does not allow this" },
  'E-DB-OPEN': { zh: '无法打开数据库', en: "Can't open the database" },
  'E-DB-MIGRATE': { zh: '无法升级数据库结构', en: "Can't migrate the database" },
  // IT's tools (flash, fleet and release commands).
  'E-ADMIN-API-REFUSED': { zh: '管理接口拒绝了请求', en: 'The admin API refused the request' },
  'E-ADMIN-API-FAILED': { zh: '管理接口出错', en: 'The admin API failed' },
  'E-ADMIN-API-UNREACHABLE': { zh: '无法连接管理接口', en: "Can't reach the admin API" },
  'E-ADMIN-API-BAD-ANSWER': { zh: '管理接口的回答无法识别', en: "The admin API's answer is not understood" },
  'E-FLASH-INPUT': { zh: '烧录的参数有误', en: 'The options given to flash are invalid' },
  'E-FLASH-CSV': { zh: '教学点列表文件有误', en: 'The centres CSV file is invalid' },
  'E-FLASH-PARTITION-TABLE': { zh: '无法识别镜像的分区表', en: "The image's partition table can't be read" },
} as const satisfies Record<string, ErrorText>;

export type FaultCode = keyof typeof FAULTS;
export type ItErrorCode = keyof typeof IT_ERRORS;
/** Every code there is; an error class's code must be one of these. */
export type ErrorCode = FaultCode | ItErrorCode;

export const ERROR_TEXTS: Readonly<Record<ErrorCode, ErrorText>> = { ...FAULTS, ...IT_ERRORS };

/** Whether a code from elsewhere (a heartbeat, an older or newer box) is one this version knows. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_TEXTS, code);
}

/** The screen's words for a code; an unknown code shows as an internal error. */
export function faultText(code: string): FaultText {
  return (FAULTS as Record<string, FaultText>)[code] ?? FAULTS['E-INTERNAL'];
}
