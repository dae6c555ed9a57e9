/* libvirt-common.h: generated from apispec/libvirt.xml by pyvirt's generator; do not edit. */

#ifndef LIBVIRT_COMMON_H
# define LIBVIRT_COMMON_H

# if !defined __VIR_LIBVIRT_H_INCLUDES__ && !defined __VIR_ADMIN_H_INCLUDES__
#  error "Include <libvirt/libvirt.h> instead of this file"
# endif

# ifndef VIR_DEPRECATED
#  if defined(__GNUC__)
#   define VIR_DEPRECATED __attribute__((__deprecated__))
#  else
#   define VIR_DEPRECATED
#  endif
# endif
# define VIR_EXPORT_VAR extern

# ifdef __cplusplus
extern "C" {
# endif

# define VIR_UUID_BUFLEN (16)

# define VIR_CPU_MAPLEN(cpu) (((cpu) + 7) / 8)

# ifdef __cplusplus
}
# endif

#endif /* LIBVIRT_COMMON_H */
