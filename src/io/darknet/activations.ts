// Darknet's activation names, and where AlexeyAB's fork computes each one. Its [convolutional] layer has its
// own code for mish, swish and hard_mish, [shortcut] for mish and swish; every other layer goes through the
// generic activate(), which has no case for them and returns 0 (test/fixtures/darknet-zoo/SECTIONS.md §4.1a).
// A name a layer would turn into zeros is refused naming its line rather than reproduced.
import type { Activation } from '../../ops/activation.js';
import type { Options } from './cfg.js';

/** Which of Darknet's code paths applies the activation. */
type ActivationSite = 'convolutional' | 'shortcut' | 'generic';

const ACTIVATIONS: Record<string, { activation: Activation; only?: ActivationSite[] }> = {
  linear: { activation: { kind: 'linear' } },
  logistic: { activation: { kind: 'sigmoid' } },
  leaky: { activation: { kind: 'leaky', alpha: 0.1 } },
  // revleaky differs from leaky only in its gradient.
  revleaky: { activation: { kind: 'leaky', alpha: 0.1 } },
  relie: { activation: { kind: 'leaky', alpha: 0.01 } },
  relu: { activation: { kind: 'relu' } },
  // min(max(x, 0), 6) as Darknet's GPU build computes it (its CPU activate() lacks the case and returns 0).
  relu6: { activation: { kind: 'relu6' } },
  tanh: { activation: { kind: 'tanh' } },
  elu: { activation: { kind: 'elu', alpha: 1 } },
  // 0.5x(1 + tanh(0.797885x + 0.035677x³)): the tanh form.
  gelu: { activation: { kind: 'gelu', approximate: true } },
  mish: { activation: { kind: 'mish' }, only: ['convolutional', 'shortcut'] },
  swish: { activation: { kind: 'swish' }, only: ['convolutional', 'shortcut'] },
  hard_mish: { activation: { kind: 'hard_mish' }, only: ['convolutional'] },
};

/** The section's `activation` (default `fallback`), refused where Darknet would not compute it. */
export function activationOf(o: Options, fallback: string, site: ActivationSite): Activation {
  const name = o.str('activation', fallback);
  const entry = ACTIVATIONS[name];
  const here = Object.keys(ACTIVATIONS).filter((k) => !ACTIVATIONS[k].only || ACTIVATIONS[k].only!.includes(site));
  if (!entry) o.error('activation', `'${name}' is not supported (${here.join(', ')})`);
  if (!here.includes(name)) {
    const where = entry.only!.map((s) => `[${s}]`).join(' and ');
    o.error(
      'activation',
      `'${name}' is computed by Darknet only in ${where}; ` +
        `here its generic activate() returns 0 (supported here: ${here.join(', ')})`,
    );
  }
  return entry.activation;
}
