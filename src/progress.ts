// Progress of loading a model, for callers that show it (the CLI draws a bar on a terminal).

export interface LoadProgress {
  /**
   * 'read': weights read from the file (layers); 'upload': weights copied to the GPU (bytes);
   * 'compile': kernels compiled.
   */
  stage: 'read' | 'upload' | 'compile';
  done: number;
  total: number;
}

export type OnLoadProgress = (progress: LoadProgress) => void;
