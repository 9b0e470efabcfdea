/** The typed config readers live with the pure renderers in core; Lambda code keeps importing them from here. */
export * from '../../core/provisioners/render/config.ts';
