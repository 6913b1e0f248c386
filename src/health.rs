//! Argo CD health assessment (ARGO-SEMANTICS.md §5), pure.
