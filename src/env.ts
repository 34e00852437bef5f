// Where the library runs: Node (Dawn, files on disk) or a browser (navigator.gpu, fetch).
export const isNode = typeof process !== 'undefined' && !!process.versions?.node;
