// epoll 4 (fivdi/epoll, the native addon onoff already uses) ships no type definitions.
declare module 'epoll' {
  class Epoll {
    static readonly EPOLLIN: number;
    static readonly EPOLLPRI: number;
    static readonly EPOLLOUT: number;
    static readonly EPOLLRDHUP: number;
    static readonly EPOLLERR: number;
    static readonly EPOLLHUP: number;
    static readonly EPOLLET: number;
    static readonly EPOLLONESHOT: number;
    constructor(callback: (error: Error | null, fd: number, events: number) => void);
    add(fd: number, events: number): this;
    modify(fd: number, events: number): this;
    remove(fd: number): this;
    close(): this;
  }
  /** CommonJS: `module.exports = { Epoll }`, so only a default import works from ESM. */
  const epoll: { Epoll: typeof Epoll };
  export default epoll;
  export type { Epoll };
}
