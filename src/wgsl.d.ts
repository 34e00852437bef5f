// esbuild's text loader turns every `.wgsl` import into the file's source string.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
