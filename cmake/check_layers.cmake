# The layer rule, checked on every build: drivers -> studies -> models -> engine -> kernels.
# A file may include its own layer and the layers below it, never one above; models also may not
# include the run-time I/O of the drivers (command line, PNG, progress, config, run harness), which
# keeps networks free of reporting. Run as: cmake -DROOT=<source dir> -P check_layers.cmake
set(violations "")
macro(forbid glob_expr pattern why)
  file(GLOB_RECURSE files "${ROOT}/${glob_expr}")
  foreach(f ${files})
    file(STRINGS "${f}" hits REGEX "^[ \t]*#[ \t]*include[ \t]*\"(${pattern})")
    foreach(h ${hits})
      file(RELATIVE_PATH rel "${ROOT}" "${f}")
      string(STRIP "${h}" h)
      list(APPEND violations "${rel}: ${h}  (${why})")
    endforeach()
  endforeach()
endmacro()
forbid("kernels/*" "models/|experiments/|tools/|tests/" "kernels sit below everything")
forbid("engine/*" "models/|experiments/|tools/|tests/" "the engine may not see models or studies")
forbid("models/*" "experiments/|tools/|tests/|engine/cli[.]h|engine/png[.]h|engine/progress[.]h|engine/config[.]h|engine/run/" "networks do no I/O for drivers")
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layer rule broken (drivers -> studies -> models -> engine -> kernels):\n  ${text}")
endif()
