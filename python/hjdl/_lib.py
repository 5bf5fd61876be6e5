"""Loading libhjdl and declaring every C signature the binding uses (ctypes).

Nothing numerical happens here: this module finds the shared library,
mirrors the C structs the binding passes by value or pointer, declares an
explicit ``argtypes``/``restype`` for every function, checks at import that
each mirrored struct has the size the library was compiled with, and turns
C status codes into :class:`Error`.

Library lookup order (the first that loads wins):

1. ``$HJDL_LIBRARY`` (a path; when set, nothing else is tried);
2. ``libhjdl.so`` copied into the package at install time;
3. ``$HJDL_BUILD_DIR/libhjdl.so`` and the source tree's ``build/libhjdl.so``;
4. the system: ``ctypes.util.find_library("hjdl")``, ``libhjdl.so.0`` on the
   loader path, ``/usr/local/lib`` and ``/usr/lib``.
"""

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int, c_size_t,
                    c_uint64, c_void_p)

# ---- status codes and the error record (status.h) ------------------------------

STATUS_NAMES = ("HJ_OK", "HJ_EINVAL", "HJ_ENOMEM", "HJ_EDOM", "HJ_EIO", "HJ_EFORMAT", "HJ_ENAN",
                "HJ_ESHAPE", "HJ_EMAXITER", "HJ_ERANGE")
ERROR_MSG_LEN = 512


class Error(ValueError):
    """An error reported by libhjdl.

    ``str(e)`` is the C library's one-line message (it names the file and
    line where that applies); ``e.status`` is the numeric ``hj_status`` and
    ``e.status_name`` its name, e.g. ``"HJ_ENAN"``.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.status_name = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else str(status)


class hj_error(Structure):
    _fields_ = [("code", c_int), ("msg", c_char * ERROR_MSG_LEN)]


# ---- mirrored structs (each size is checked against the library at import) ------

class hj_lse_layer(Structure):          # lse.h
    _fields_ = [("N", c_size_t), ("d", c_size_t), ("w", c_void_p), ("b", c_void_p),
                ("eps", c_double)]


class hj_atoms(Structure):              # hopf.h
    _fields_ = [("N", c_size_t), ("d", c_size_t), ("y", c_void_p), ("g", c_void_p)]


class hj_hc_out(Structure):             # hopf.h
    _fields_ = [(name, c_void_p) for name in
                ("u", "u_norm", "grad", "dudt", "hess", "lap", "entropy", "pi")]


class hj_train_progress(Structure):     # optim.h
    _fields_ = [("phase", c_char_p), ("step", c_size_t), ("total", c_size_t),
                ("epoch", c_size_t), ("loss", c_double)]


TRAIN_CALLBACK = CFUNCTYPE(c_int, POINTER(hj_train_progress), c_void_p)


class hj_train_options(Structure):      # optim.h
    _fields_ = [("optimizer", c_int), ("lr", c_double), ("beta1", c_double), ("beta2", c_double),
                ("adam_eps", c_double), ("momentum", c_double), ("iters", c_size_t),
                ("epochs", c_size_t), ("batch", c_size_t), ("lbfgs_iters", c_size_t),
                ("n_data", c_size_t), ("seed", c_uint64), ("report_every", c_size_t),
                ("callback", TRAIN_CALLBACK), ("callback_ctx", c_void_p),
                # data parallelism (MPI backend); left NULL/0 by the binding: one process
                ("allreduce", c_void_p), ("allreduce_ctx", c_void_p), ("shard_begin", c_size_t),
                ("n_total", c_size_t)]


class hj_train_result(Structure):       # optim.h
    _fields_ = [("final_loss", c_double), ("steps", c_size_t), ("stopped", c_int),
                ("loss_trace", POINTER(c_double))]


class hj_capi_model_info(Structure):    # capi.h
    _fields_ = [("d_raw", c_size_t), ("d_in", c_size_t), ("n_out", c_size_t),
                ("n_classes", c_size_t), ("n_params", c_size_t), ("n_layers", c_size_t),
                ("n_atoms", c_size_t), ("atom_dim", c_size_t), ("output_scale", c_int),
                ("pre_kind", c_int), ("eps", c_double), ("t", c_double)]


class hj_crit_list(Structure):          # landscape.h
    _fields_ = [("d", c_size_t), ("n", c_size_t), ("cap", c_size_t), ("x", POINTER(c_double)),
                ("H", POINTER(c_double)), ("index", POINTER(c_int)),
                ("lam_rel", POINTER(c_double))]


class hj_landscape_options(Structure):  # landscape.h
    _fields_ = [("eps_min", c_double), ("eps_max", c_double), ("pad", c_double),
                ("lo", c_void_p), ("hi", c_void_p), ("h_max", c_double), ("h_min", c_double),
                ("max_steps", c_size_t), ("seed_levels", c_size_t), ("grid_seeds", c_size_t),
                ("neighbours", c_size_t)]


class hj_fold(Structure):               # landscape.h
    _fields_ = [("eps", c_double), ("x", POINTER(c_double)), ("H", c_double), ("type", c_int),
                ("dir", c_int), ("lam_rel", c_double), ("lam_side", c_double * 2),
                ("index_side", c_int * 2), ("ok", c_int), ("method", c_int)]


class hj_bifurcation(Structure):        # landscape.h
    _fields_ = [("d", c_size_t), ("eps_min", c_double), ("eps_max", c_double),
                ("lo", POINTER(c_double)), ("hi", POINTER(c_double)), ("n_points", c_size_t),
                ("cap_points", c_size_t), ("eps", POINTER(c_double)), ("x", POINTER(c_double)),
                ("H", POINTER(c_double)), ("index", POINTER(c_int)),
                ("branch", POINTER(c_size_t)), ("n_branches", c_size_t),
                ("n_incomplete", c_size_t), ("n_min_exits", c_size_t), ("n_folds", c_size_t),
                ("cap_folds", c_size_t), ("folds", POINTER(hj_fold))]


EXP_PROGRESS = CFUNCTYPE(None, c_char_p, c_char_p, c_double, c_void_p)


class hj_experiment_options(Structure):  # experiment.h
    _fields_ = [("quick", c_int), ("seeds", c_size_t), ("out_dir", c_char_p), ("eps", c_double),
                ("N", c_size_t), ("d", c_size_t), ("iters", c_size_t), ("seed", c_uint64),
                ("progress", EXP_PROGRESS), ("progress_ctx", c_void_p)]


class hj_experiment(Structure):         # experiment.h
    _fields_ = [("name", c_char_p), ("claims", c_char_p), ("description", c_char_p),
                ("run", c_void_p)]


MIRRORED = (hj_error, hj_lse_layer, hj_atoms, hj_hc_out, hj_train_options, hj_train_progress,
            hj_train_result, hj_capi_model_info, hj_crit_list, hj_landscape_options, hj_fold,
            hj_bifurcation, hj_experiment_options, hj_experiment)

# ---- signatures ---------------------------------------------------------------------

P = c_void_p            # a double/size_t array or an opaque handle (hj_model *, ...)
E = POINTER(hj_error)   # the trailing hj_error *err of every fallible call
S = c_int               # hj_status

SIGNATURES = {
    # runtime.h, status.h
    "hj_version": (c_char_p, []),
    "hj_kernels": (c_char_p, []),
    "hj_status_string": (c_char_p, [c_int]),
    "hj_set_threads": (None, [c_size_t]),
    "hj_get_threads": (c_size_t, []),
    # capi.h
    "hj_capi_sizeof": (c_size_t, [c_char_p]),
    "hj_capi_free": (None, [c_void_p]),
    "hj_capi_model_create": (S, [POINTER(c_void_p), c_char_p, c_size_t, c_size_t, c_int, c_double,
                                 c_double, c_uint64, c_int, c_size_t, P, c_size_t, E]),
    "hj_capi_model_load": (S, [POINTER(c_void_p), c_char_p, E]),
    "hj_capi_model_delete": (None, [P]),
    "hj_capi_model_info_get": (None, [P, POINTER(hj_capi_model_info)]),
    "hj_capi_model_arch": (None, [P, c_char_p, c_size_t]),
    "hj_capi_model_get_params": (S, [P, P, c_size_t, E]),
    "hj_capi_model_set_params": (S, [P, P, c_size_t, E]),
    "hj_capi_model_train": (S, [P, P, P, c_size_t, POINTER(hj_train_options),
                                POINTER(hj_train_result), E]),
    "hj_capi_model_explain": (S, [P, P, c_size_t, c_size_t, P, P, P, E]),
    "hj_capi_entropy_grad": (S, [POINTER(hj_lse_layer), P, c_size_t, P, P, E]),
    "hj_capi_experiment_run": (S, [c_char_p, POINTER(hj_experiment_options), E]),
    # lse.h, entropy.h, influence.h
    "hj_lse_forward": (S, [POINTER(hj_lse_layer), P, c_size_t, P, P, P, E]),
    "hj_entropy_batch": (S, [POINTER(hj_lse_layer), P, c_size_t, P, E]),
    "hj_explain_layer": (S, [POINTER(hj_lse_layer), P, c_size_t, c_size_t, P, P, P, E]),
    "hj_critical_eps": (c_double, [c_size_t, c_size_t]),
    # hopf.h
    "hj_metric_alloc": (S, [POINTER(c_void_p), P, c_size_t, E]),
    "hj_metric_free": (None, [P]),
    "hj_hopf_cole_eval": (S, [POINTER(hj_atoms), P, P, c_size_t, c_double, c_double,
                              POINTER(hj_hc_out), E]),
    "hj_hopf_lax_eval": (S, [POINTER(hj_atoms), P, P, c_size_t, c_double, P, P, E]),
    "hj_weights_to_atoms": (S, [P, P, c_size_t, c_size_t, c_double, P, P, P, E]),
    "hj_atoms_to_weights": (S, [P, P, c_size_t, c_size_t, c_double, P, P, P, E]),
    # model.h, optim.h, robust.h (the model is an opaque hj_model * from capi.h)
    "hj_train_options_default": (None, [POINTER(hj_train_options)]),
    "hj_optimizer_parse": (S, [c_char_p, POINTER(c_int), E]),
    "hj_model_predict": (S, [P, P, c_size_t, P, E]),
    "hj_model_save": (S, [P, c_char_p, E]),
    "hj_model_initial_data": (S, [P, c_double, P, P, E]),
    "hj_certify": (S, [P, P, c_size_t, P, E]),
    # capi.h: `hjdl fit`'s training, layer layouts, names, .hjm text (issue 17: estimators,
    # named parameters, pickling)
    "hj_capi_model_fit": (S, [P, P, P, c_size_t, P, P, c_size_t, POINTER(hj_train_options),
                              c_double, c_size_t, c_size_t, P, c_size_t, c_int,
                              POINTER(hj_train_result), POINTER(c_double), POINTER(c_size_t), E]),
    "hj_capi_model_layer": (S, [P, c_size_t, POINTER(c_size_t * 6), E]),
    "hj_capi_model_name": (c_char_p, [P, c_int, c_size_t]),
    "hj_capi_model_target_scaling": (None, [P, POINTER(c_double), POINTER(c_double)]),
    "hj_capi_model_parse": (S, [POINTER(c_void_p), c_char_p, c_size_t, c_char_p, E]),
    "hj_model_set_names": (S, [P, POINTER(c_char_p), c_char_p, POINTER(c_char_p), E]),
    # landscape.h
    "hj_landscape_alloc": (S, [POINTER(c_void_p), POINTER(hj_atoms), c_double, E]),
    "hj_landscape_free": (None, [P]),
    "hj_landscape_critical_eps": (c_double, [P]),
    "hj_landscape_domain": (None, [P, c_double, P, P]),
    "hj_landscape_eval": (S, [P, c_double, P, P, P, P, P, E]),
    "hj_landscape_batch": (S, [P, c_double, P, c_size_t, P, E]),
    "hj_landscape_options_default": (None, [POINTER(hj_landscape_options)]),
    "hj_landscape_critical_points": (S, [P, c_double, POINTER(hj_landscape_options),
                                         POINTER(hj_crit_list), E]),
    "hj_crit_list_free": (None, [POINTER(hj_crit_list)]),
    "hj_landscape_continue": (S, [P, POINTER(hj_landscape_options), POINTER(hj_bifurcation), E]),
    "hj_bifurcation_free": (None, [POINTER(hj_bifurcation)]),
    # experiment.h
    "hj_experiment_count": (c_size_t, []),
    "hj_experiment_at": (POINTER(hj_experiment), [c_size_t]),
    "hj_experiment_options_default": (None, [POINTER(hj_experiment_options)]),
    # stream.h, data.h (the atom file is an opaque hj_rows *; no shard: one process)
    "hj_stream_open": (S, [c_char_p, POINTER(c_void_p), E]),
    "hj_rows_close": (None, [P]),
    "hj_rows_count": (c_size_t, [P]),
    "hj_rows_cols": (c_size_t, [P]),
    "hj_stream_solve": (S, [P, P, P, c_size_t, c_double, c_double, c_size_t, P,
                            POINTER(hj_hc_out), E]),
    "hj_stream_explain": (S, [P, P, c_size_t, c_double, c_double, c_size_t, c_size_t, P, P, P,
                              P, E]),
}

# numpy record layouts of structs returned as arrays (checked like the others)
EXPLAIN_FIELDS = [("entropy", "<f8"), ("n_eff", "<f8"), ("regime", "<i4"), ("_pad", "<i4")]
CERTIFICATE_FIELDS = [("cls", "<u8"), ("runner_up", "<u8"), ("margin", "<f8"), ("radius", "<f8")]


def _candidates():
    """(label, path-or-name) pairs to try, in order."""
    env = os.environ.get("HJDL_LIBRARY")
    if env:
        return [("$HJDL_LIBRARY", env)]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [("package copy", os.path.join(here, "libhjdl.so"))]
    build = os.environ.get("HJDL_BUILD_DIR")
    if build:
        out.append(("$HJDL_BUILD_DIR", os.path.join(build, "libhjdl.so")))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    if os.path.exists(os.path.join(root, "CMakeLists.txt")):   # running from the source tree
        out.append(("source tree build", os.path.join(root, "build", "libhjdl.so")))
    found = ctypes.util.find_library("hjdl")
    if found:
        out.append(("find_library", found))
    out.append(("loader path", "libhjdl.so.0"))
    for d in ("/usr/local/lib", "/usr/lib"):
        out.append(("prefix", os.path.join(d, "libhjdl.so.0")))
    return out


def _load():
    tried = []
    for label, path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{label}: {path} (no such file)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{label}: {path} ({e})")
            continue
        if not hasattr(lib, "hj_capi_sizeof"):
            tried.append(f"{label}: {path} (no hj_capi_sizeof: an older libhjdl)")
            continue
        return lib, path
    raise ImportError("hjdl: cannot load libhjdl; tried\n  " + "\n  ".join(tried) +
                      "\nBuild it with `make` (or cmake) and reinstall the package "
                      "(`pip install --no-build-isolation ./python`), or set HJDL_LIBRARY "
                      "to the path of libhjdl.so.")


lib, path = _load()

for _name, (_res, _args) in SIGNATURES.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        raise ImportError(f"hjdl: {path} has no function {_name} (library and package differ)")
    _f.restype = _res
    _f.argtypes = _args


def _check_layouts():
    import numpy as np
    for st in MIRRORED:
        c_size = lib.hj_capi_sizeof(st.__name__.encode())
        if c_size != ctypes.sizeof(st):
            raise ImportError(f"hjdl: struct {st.__name__} is {c_size} bytes in {path} but "
                              f"{ctypes.sizeof(st)} in the binding: the package and the library "
                              f"do not match")
    for name, fields in (("hj_explain", EXPLAIN_FIELDS), ("hj_certificate", CERTIFICATE_FIELDS)):
        c_size = lib.hj_capi_sizeof(name.encode())
        if c_size != np.dtype(fields).itemsize:
            raise ImportError(f"hjdl: struct {name} is {c_size} bytes in {path} but "
                              f"{np.dtype(fields).itemsize} in the binding")
    if ctypes.sizeof(c_size_t) != 8:
        raise ImportError("hjdl: needs a 64-bit platform (size_t of 8 bytes)")


_check_layouts()


def check(status, err):
    """Raise Error carrying the C message when status is not HJ_OK."""
    if status != 0:
        msg = err.msg.decode("utf-8", "replace")
        if not msg:
            msg = lib.hj_status_string(status).decode()
        raise Error(msg, status)


def version():
    return lib.hj_version().decode()


def kernels():
    return lib.hj_kernels().decode()
