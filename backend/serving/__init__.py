"""What serves which model: the registry of models clients may pick and the GPU workers' heartbeats."""
