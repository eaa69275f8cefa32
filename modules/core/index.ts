export * from './aws-rules';
export * from './cidr';
export * from './engine';
export * from './names';
export * from './regions';
export * from './validate';
export * from './suggest';
