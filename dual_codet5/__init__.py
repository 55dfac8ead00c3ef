"""dual_codet5: the application layer of dual-codet5 (training helpers, inference, statistics, Hub export, CLI).

Sub-modules are imported where needed (``dual_codet5.rl``, ``dual_codet5.collate``, ``dual_codet5.hub``, ...); this
package initialiser stays import-free so that light consumers do not pay for torch or transformers.
"""
