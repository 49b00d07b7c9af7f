/*
** blas.h: the OpenBLAS entry points mpl uses, loaded at first use (blas.c).
*/
#ifndef MPL_BLAS_H
#define MPL_BLAS_H

#include <stddef.h>

#include <cblas.h> /* the enums only: nothing links OpenBLAS */

typedef int mpl__la_int; /* Debian's OpenBLAS: 32-bit LAPACK integers */

typedef struct mpl__blas_t {
  int loaded;
  void (*dgemm)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE,
                int m, int n, int k, double alpha, const double *a, int lda,
                const double *b, int ldb, double beta, double *c, int ldc);
  void (*dgetrf)(const mpl__la_int *m, const mpl__la_int *n, double *a,
                 const mpl__la_int *lda, mpl__la_int *ipiv, mpl__la_int *info);
  void (*dgetrs)(const char *trans, const mpl__la_int *n,
                 const mpl__la_int *nrhs, const double *a,
                 const mpl__la_int *lda, const mpl__la_int *ipiv, double *b,
                 const mpl__la_int *ldb, mpl__la_int *info, size_t trans_len);
  void (*dgecon)(const char *norm, const mpl__la_int *n, const double *a,
                 const mpl__la_int *lda, const double *anorm, double *rcond,
                 double *work, mpl__la_int *iwork, mpl__la_int *info,
                 size_t norm_len);
  void (*dgetri)(const mpl__la_int *n, double *a, const mpl__la_int *lda,
                 const mpl__la_int *ipiv, double *work,
                 const mpl__la_int *lwork, mpl__la_int *info);
  void (*dpotrf)(const char *uplo, const mpl__la_int *n, double *a,
                 const mpl__la_int *lda, mpl__la_int *info, size_t uplo_len);
  void (*dsyevd)(const char *jobz, const char *uplo, const mpl__la_int *n,
                 double *a, const mpl__la_int *lda, double *w, double *work,
                 const mpl__la_int *lwork, mpl__la_int *iwork,
                 const mpl__la_int *liwork, mpl__la_int *info, size_t jobz_len,
                 size_t uplo_len);
  void (*dgesdd)(const char *jobz, const mpl__la_int *m, const mpl__la_int *n,
                 double *a, const mpl__la_int *lda, double *s, double *u,
                 const mpl__la_int *ldu, double *vt, const mpl__la_int *ldvt,
                 double *work, const mpl__la_int *lwork, mpl__la_int *iwork,
                 mpl__la_int *info, size_t jobz_len);
  void (*dgesvd)(const char *jobu, const char *jobvt, const mpl__la_int *m,
                 const mpl__la_int *n, double *a, const mpl__la_int *lda,
                 double *s, double *u, const mpl__la_int *ldu, double *vt,
                 const mpl__la_int *ldvt, double *work,
                 const mpl__la_int *lwork, mpl__la_int *info, size_t jobu_len,
                 size_t jobvt_len);
  void (*dgelsd)(const mpl__la_int *m, const mpl__la_int *n,
                 const mpl__la_int *nrhs, double *a, const mpl__la_int *lda,
                 double *b, const mpl__la_int *ldb, double *s,
                 const double *rcond, mpl__la_int *rank, double *work,
                 const mpl__la_int *lwork, mpl__la_int *iwork,
                 mpl__la_int *info);
  void (*dgeqrf)(const mpl__la_int *m, const mpl__la_int *n, double *a,
                 const mpl__la_int *lda, double *tau, double *work,
                 const mpl__la_int *lwork, mpl__la_int *info);
  void (*dorgqr)(const mpl__la_int *m, const mpl__la_int *n,
                 const mpl__la_int *k, double *a, const mpl__la_int *lda,
                 const double *tau, double *work, const mpl__la_int *lwork,
                 mpl__la_int *info);
  void (*dgeev)(const char *jobvl, const char *jobvr, const mpl__la_int *n,
                double *a, const mpl__la_int *lda, double *wr, double *wi,
                double *vl, const mpl__la_int *ldvl, double *vr,
                const mpl__la_int *ldvr, double *work, const mpl__la_int *lwork,
                mpl__la_int *info, size_t jobvl_len, size_t jobvr_len);
  char *(*get_corename)(void);
  char *(*get_config)(void);
  int (*get_parallel)(void);
  int (*get_num_threads)(void);
  void (*set_num_threads)(int);
} mpl__blas_t;

/* The loaded library (loading and choosing its kernel the first time), or
** NULL with mpl_errmsg set when it cannot be loaded. */
const mpl__blas_t *mpl__blas(void);

/* The same, for code that runs only after mpl__blas() succeeded in this
** process (or its parent): aborts with the reason otherwise. */
const mpl__blas_t *mpl__blas_or_die(void);

/* For tests: make the choice of a freshly loaded library again, as if
** OpenBLAS had just picked the kernel it runs now (a test loads it with
** OPENBLAS_CORETYPE=Prescott, then unsets the variable and calls this). */
void mpl__blas_choose_again(void);

/* What mat.blas() reports. */
typedef struct mpl__blas_info_t {
  const char *kernel; /* OpenBLAS's name of the kernel it runs */
  const char *how;    /* "cpu", "OpenBLAS", "OPENBLAS_CORETYPE", "host" */
  const char *config; /* openblas_get_config() */
  int threads;        /* OpenBLAS's thread setting in this process */
} mpl__blas_info_t;

/* 0, or MPL_ESYS when OpenBLAS cannot be loaded. */
int mpl__blas_info(mpl__blas_info_t *info);

#endif
