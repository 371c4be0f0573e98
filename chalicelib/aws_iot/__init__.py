"""AWS IoT compatibility: the classic and named shadows and the jobs topics in AWS's formats."""
