"""Text tables of panoptic results (percent, one decimal)."""
from typing import Sequence

from terminaltables import AsciiTable


def _pct(value: float) -> str:
    return f'{100 * value:.1f}'


def summary_table(results: dict) -> str:
    """PQ/SQ/RQ per group, Acc^th / Prec^th and mIoU as one table."""
    rows = [['', 'PQ', 'SQ', 'RQ', 'N']]
    for name in ('All', 'Things', 'Stuff'):
        group = results[name]
        rows.append([name, _pct(group['pq']), _pct(group['sq']), _pct(group['rq']),
                     str(group['n'])])
    text = AsciiTable(rows).table
    extra = [['Acc^th', 'Prec^th'] + (['mIoU'] if 'miou' in results else []),
             [_pct(results['acc_th']), _pct(results['prec_th'])]
             + ([_pct(results['miou'])] if 'miou' in results else [])]
    confusion = [['T (%)'] + [f'{t:g}' for t in results['confusion']],
                 ['confusion'] + [_pct(v) for v in results['confusion'].values()],
                 ['same class'] + [_pct(v) for v in results['confusion_same_class'].values()]]
    return '\n'.join([text, AsciiTable(extra).table, AsciiTable(confusion).table])


def per_class_table(results: dict, class_names: Sequence[str]) -> str:
    """One row per class: PQ, SQ, RQ, Acc, Prec (things) and IoU (when computed)."""
    with_iou = 'miou' in results
    rows = [['class', 'PQ', 'SQ', 'RQ', 'Acc', 'Prec'] + (['IoU'] if with_iou else [])]
    for label, name in enumerate(class_names):
        values = results['per_class'][label]
        row = [name] + [_pct(values[k]) for k in ('pq', 'sq', 'rq')]
        row += [_pct(values[k]) if k in values else '-' for k in ('acc', 'prec')]
        if with_iou:
            row.append(_pct(values['iou']))
        rows.append(row)
    return AsciiTable(rows).table
